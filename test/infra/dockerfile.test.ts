/**
 * The Dockerfile, .dockerignore and docker-compose.yml, read and checked against the deployment's
 * requirements (`npm run test:image` builds and runs the image for real).
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';
import { promisify } from 'util';
import { REPO_ROOT } from './support/harness';
import { SERVICE_NODE_FLAGS } from '../../app/defaults';
import { embeddingContainers, healthCheckCommand } from '../../infra/containers';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml: { load(text: string): unknown } = require('js-yaml');

interface Instruction {
  readonly op: string;
  readonly args: string;
}
interface Stage {
  readonly from: string;
  readonly name?: string;
  readonly instructions: Instruction[];
}
interface Dockerfile {
  /** The build arguments declared before the first FROM (usable in FROM lines), with their defaults. */
  readonly args: Record<string, string | undefined>;
  readonly stages: Stage[];
}

/** Dockerfile → global build arguments and stages of instructions (comments dropped, continuation lines joined). */
export function parseDockerfile(text: string): Dockerfile {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1).trim()} `;
      continue;
    }
    logical.push((current + line).trim());
    current = '';
  }
  const args: Record<string, string | undefined> = {};
  const stages: Stage[] = [];
  for (const l of logical) {
    const [, op, rest] = /^(\S+)\s*(.*)$/.exec(l) ?? [];
    if (op.toUpperCase() === 'FROM') {
      const [from, as, name] = rest.split(/\s+/);
      stages.push({ from, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else if (stages.length === 0) {
      // Only ARG may precede the first FROM.
      if (op.toUpperCase() !== 'ARG') throw new Error(`${op} before FROM`);
      const [name, value] = rest.split(/=(.*)/s);
      args[name] = value;
    } else {
      stages[stages.length - 1].instructions.push({ op: op.toUpperCase(), args: rest });
    }
  }
  return { args, stages };
}

/** `ENV A=1 B=2` instructions of a stage → { A: '1', B: '2' } (unquoted values, as this Dockerfile writes them). */
function envOf(stage: Stage): Record<string, string> {
  const pairs = stage.instructions.filter((i) => i.op === 'ENV').flatMap((i) => i.args.split(/\s+/));
  return Object.fromEntries(pairs.map((pair) => pair.split(/=(.*)/s).slice(0, 2) as [string, string]));
}

const read = (file: string) => fs.readFileSync(path.join(REPO_ROOT, file), 'utf8');
const dockerfile = parseDockerfile(read('Dockerfile'));
const stages = dockerfile.stages;
const build = stages[0];
const runtime = stages[stages.length - 1];
const ops = (stage: Stage, op: string) => stage.instructions.filter((i) => i.op === op);
const indexOf = (stage: Stage, predicate: (i: Instruction) => boolean) => stage.instructions.findIndex(predicate);
const healthCheckExec = () => {
  const [hc] = ops(runtime, 'HEALTHCHECK');
  return JSON.parse(hc.args.slice(hc.args.indexOf('CMD') + 3).trim()) as string[];
};

describe('Dockerfile', () => {
  it('is multi-stage on one base, the build argument NODE_IMAGE: an exact Node 24 release of Debian bookworm slim (glibc for onnxruntime-node)', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages) expect(s.from).toBe('${NODE_IMAGE}');
    // Exact version; the digest is appended once it can be checked (the Dockerfile says how).
    expect(dockerfile.args.NODE_IMAGE).toMatch(/^node:24\.\d+\.\d+-bookworm-slim(@sha256:[0-9a-f]{64})?$/);
    expect(read('Dockerfile')).toContain('docker buildx imagetools inspect node:');
  });

  it("runs the Node version of .node-version, which `npm run test:pinned-node` runs the tests on", () => {
    const pinned = read('.node-version').trim();
    expect(pinned).toMatch(/^24\.\d+\.\d+$/);
    expect(/^node:([\d.]+)-/.exec(dockerfile.args.NODE_IMAGE ?? '')?.[1]).toBe(pinned);
  });

  it('package.json engines still allow Node 20.6 (the build machines run it)', () => {
    const pkg = JSON.parse(read('package.json')) as { engines: { node: string } };
    expect(pkg.engines.node).toBe('>=20.6');
  });

  it('build stage: install-script skip before npm ci, then the app-only build, model download, dev dependencies pruned, other platforms\' onnxruntime binaries removed', () => {
    const skip = indexOf(build, (i) => i.op === 'ENV' && /\bONNXRUNTIME_NODE_INSTALL=skip\b/.test(i.args));
    const ci = indexOf(build, (i) => i.op === 'RUN' && /\bnpm ci\b/.test(i.args));
    const tsc = indexOf(build, (i) => i.op === 'RUN' && /\bnpm run build:app\b/.test(i.args));
    const model = indexOf(build, (i) => i.op === 'RUN' && /\bnode dist\/app\/cli\/fetch-model\.js \/app\/models\/all-MiniLM-L6-v2\b/.test(i.args));
    const prune = indexOf(build, (i) => i.op === 'RUN' && /\bnpm prune --omit=dev\b/.test(i.args));
    const platforms = indexOf(build, (i) => i.op === 'RUN' && /onnxruntime-node\/bin\/napi-v6/.test(i.args) && /process\.arch/.test(i.args));
    expect([skip, ci, tsc, model, prune, platforms].every((i) => i >= 0)).toBe(true);
    expect(skip).toBeLessThan(ci);
    expect(ci).toBeLessThan(tsc);
    expect(tsc).toBeLessThan(model);
    expect(model).toBeLessThan(prune);
    expect(prune).toBeLessThan(platforms);
    // Only app/ is copied in and compiled: development tools never reach the image.
    const copies = ops(build, 'COPY').map((i) => i.args.split(/\s+/)[0]);
    expect(copies).not.toContain('scripts');
    expect(copies).not.toContain('bench');
    expect(ops(build, 'COPY').map((i) => i.args).join('\n')).not.toMatch(/\.npmrc/);
  });

  it('the CA bundle reaches npm ci and the download as a build secret only, never as a file or variable of a layer', () => {
    for (const step of [/\bnpm ci\b/, /fetch-model/]) {
      const run = ops(build, 'RUN').find((i) => step.test(i.args));
      expect(run?.args).toMatch(/^--mount=type=secret,id=ca-bundle\s/);
      expect(run?.args).toContain('NODE_EXTRA_CA_CERTS="$(ls /run/secrets/ca-bundle 2>/dev/null)"');
    }
    for (const stage of stages) {
      expect(Object.keys(envOf(stage))).not.toContain('NODE_EXTRA_CA_CERTS');
      expect(ops(stage, 'COPY').map((i) => i.args).join('\n')).not.toMatch(/\.pem|\.crt|ca-bundle/);
    }
  });

  it('the app-only build (tsconfig.app.json) needs nothing outside app/ and no development dependency', () => {
    const appConfig = JSON.parse(read('tsconfig.app.json')) as { include: string[] };
    expect(appConfig.include).toEqual(['app/**/*.ts']);
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    const runtime = new Set(Object.keys(pkg.dependencies));
    const appDir = path.join(REPO_ROOT, 'app');
    const sources = (fs.readdirSync(appDir, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));
    expect(sources.length).toBeGreaterThan(20);
    const problems: string[] = [];
    for (const file of sources) {
      const text = fs.readFileSync(path.join(appDir, file), 'utf8');
      for (const [, spec] of text.matchAll(/(?:from\s+|require\(|import\()\s*'([^']+)'/g)) {
        if (spec.startsWith('node:')) continue;
        if (spec.startsWith('.')) {
          const target = path.resolve(path.dirname(path.join(appDir, file)), spec);
          if (!target.startsWith(appDir + path.sep)) problems.push(`${file} imports ${spec}, outside app/`);
          continue;
        }
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        if (!runtime.has(name)) problems.push(`${file} imports ${name}, not a runtime dependency`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('no .npmrc: the onnxruntime install skip lives in package.json allowScripts (npm accepts it)', () => {
    expect(fs.existsSync(path.join(REPO_ROOT, '.npmrc'))).toBe(false);
    const pkg = JSON.parse(read('package.json')) as { allowScripts: Record<string, boolean> };
    expect(pkg.allowScripts['onnxruntime-node']).toBe(false);
  });

  it('takes HF_ENDPOINT and MODEL_PIN as build arguments before the download, empty by default (the hub, the built-in pin)', () => {
    const model = indexOf(build, (i) => i.op === 'RUN' && /fetch-model/.test(i.args));
    for (const name of ['HF_ENDPOINT', 'MODEL_PIN']) {
      const arg = indexOf(build, (i) => i.op === 'ARG' && i.args === `${name}=`);
      expect(arg).toBeGreaterThanOrEqual(0);
      expect(arg).toBeLessThan(model);
    }
    expect(build.instructions[model]?.args).toMatch(/if \[ -n "\$MODEL_PIN" \]; then .*--manifest/);
  });

  it('runtime stage: copies the built app, pruned node_modules and the model; downloads nothing', () => {
    const copies = ops(runtime, 'COPY').map((i) => i.args);
    for (const p of ['/app/dist', '/app/node_modules', '/app/models']) {
      expect(copies.some((c) => c.startsWith(`--from=${build.name}`) && c.includes(p))).toBe(true);
    }
    expect(ops(runtime, 'RUN').map((i) => i.args).join('\n')).not.toMatch(/npm (ci|install)|model:fetch|fetch-model|curl|wget/);
    expect(ops(runtime, 'ENV').map((i) => i.args).join(' ')).toContain('EMBEDDING_MODEL_DIR=/app/models/all-MiniLM-L6-v2');
  });

  it('runs as a non-root user, exposes 8003 and starts the server with its V8 flags, as npm start does', () => {
    const user = ops(runtime, 'USER');
    expect(user).toHaveLength(1);
    expect(user[0].args).not.toMatch(/^(root|0)(:|$)/);
    expect(ops(runtime, 'EXPOSE').map((i) => i.args)).toEqual(['8003']);
    expect(ops(runtime, 'CMD').map((i) => JSON.parse(i.args))).toEqual([['node', ...SERVICE_NODE_FLAGS, 'dist/app/main.js']]);
    const packageJson = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(packageJson.scripts.start).toContain(['node', ...SERVICE_NODE_FLAGS, 'dist/app/main.js'].join(' '));
    expect(indexOf(runtime, (i) => i.op === 'USER')).toBeLessThan(indexOf(runtime, (i) => i.op === 'CMD'));
  });

  it('has a HEALTHCHECK on /health with node, not curl: the task definition\'s command', () => {
    const [hc] = ops(runtime, 'HEALTHCHECK');
    expect(hc.args).toMatch(/--interval=30s/);
    expect(hc.args).toMatch(/--timeout=10s/);
    expect(hc.args).toMatch(/--start-period=30s/);
    expect(hc.args).toMatch(/--retries=3/);
    expect(hc.args).not.toMatch(/curl|wget/);
    expect(['CMD', ...healthCheckExec()]).toEqual(healthCheckCommand(8003));
  });

  it('runtime environment: the ECS task definition sets every variable the image sets, to the same value', () => {
    const image = envOf(runtime);
    expect(image).toMatchObject({ ORT_DISABLE_TELEMETRY: '1', MODEL_AUTO_DOWNLOAD: 'false', NODE_ENV: 'production' });
    const [app] = embeddingContainers({
      image: 'embedding-service@sha256:abc',
      collectorImage: 'otel-collector@sha256:abc',
      collectorConfig: '{}',
      region: 'us-east-1',
      logGroupName: '/ecs/embedding-service',
      port: Number(image.PORT),
      logLevel: image.LOG_LEVEL,
      serviceName: 'embedding-service',
      shutdownGraceMs: 25_000,
      stopTimeout: 30,
      taskCpu: 512,
    });
    const task = Object.fromEntries((app.environment ?? []).map((e) => [e.name, e.value]));
    expect(task).toMatchObject(image);
    expect(app.readonlyRootFilesystem).toBe(true);
    // USER node: uid/gid 1000 in the node images.
    expect(ops(runtime, 'USER').map((i) => i.args)).toEqual(['node']);
    expect(app.user).toBe('1000:1000');
  });
});

describe('the HEALTHCHECK command, run against a server on each kind of HOST', () => {
  const execFileAsync = promisify(execFile);
  /** Exit code of the image's health check command with this environment. */
  const runHealthCheck = async (env: Record<string, string>): Promise<number> => {
    const [node, ...args] = healthCheckExec();
    expect(node).toBe('node');
    return execFileAsync(process.execPath, args, { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 10_000 }).then(
      () => 0,
      (error: { code?: number }) => error.code ?? -1,
    );
  };
  const serve = async (host: string, status: number): Promise<{ port: number; close(): Promise<void> }> => {
    const server = http.createServer((req, res) => res.writeHead(req.url === '/health' ? status : 404).end());
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    return { port: (server.address() as AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
  };

  it.each([
    ['unset (0.0.0.0)', '0.0.0.0', undefined],
    ['0.0.0.0', '0.0.0.0', '0.0.0.0'],
    ['one IPv4 address', '127.0.0.2', '127.0.0.2'],
    ['::', '::', '::'],
    ['one IPv6 address', '::1', '::1'],
    ['a host name', '127.0.0.1', 'localhost'],
  ])('HOST %s: exit 0 on 200, 1 on 503', async (_label, listenOn, host) => {
    for (const [status, expected] of [[200, 0], [503, 1]] as const) {
      const server = await serve(listenOn, status);
      try {
        expect(await runHealthCheck({ PORT: String(server.port), ...(host === undefined ? {} : { HOST: host }) })).toBe(expected);
      } finally {
        await server.close();
      }
    }
  });

  it('exit 1 when nothing listens on PORT', async () => {
    const server = await serve('127.0.0.1', 200);
    await server.close();
    expect(await runHealthCheck({ HOST: '127.0.0.1', PORT: String(server.port) })).toBe(1);
  });
});

describe('the app writes nothing at run time (read-only root filesystem, no /tmp mount)', () => {
  it('no source under app/ uses os.tmpdir(), /tmp or a temp-file API', () => {
    const appDir = path.join(REPO_ROOT, 'app');
    const sources = (fs.readdirSync(appDir, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));
    const offenders = sources.filter((f) => /tmpdir\(|['"`]\/tmp\b|mkdtemp/.test(fs.readFileSync(path.join(appDir, f), 'utf8')));
    expect(offenders).toEqual([]);
  });
});

describe('infra/collector/Dockerfile (the collector copied into the stack\'s registry)', () => {
  const collector = parseDockerfile(read('infra/collector/Dockerfile'));

  it('is the collector image as it is: one FROM of the build argument, nothing added', () => {
    expect(collector.stages).toEqual([{ from: '${COLLECTOR_IMAGE}', name: undefined, instructions: [] }]);
    expect(read('infra/collector/Dockerfile')).toMatch(/^ARG COLLECTOR_IMAGE$/m);
  });
});

describe('.dockerignore', () => {
  it('keeps local builds, models, dependencies and git out of the context', () => {
    const entries = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    expect(entries).toEqual(expect.arrayContaining(['node_modules', 'dist', 'models', '.git', '.cache']));
    for (const needed of ['app', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.app.json', 'tsconfig.base.json']) {
      expect(entries).not.toContain(needed);
    }
  });
});

describe('docker-compose.yml', () => {
  const text = read('docker-compose.yml');
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const doc = yaml.load(text) as any;
  const embedding = doc.services.embedding;

  it('defines service "embedding" on 8003, built from the Dockerfile', () => {
    expect(Object.keys(doc.services)).toEqual(['embedding']);
    expect(embedding.build).toMatchObject({ context: '.', dockerfile: 'Dockerfile' });
    expect(embedding.ports).toEqual(['8003:8003']);
    expect(embedding.environment.PORT).toBe('8003');
  });

  it('has the same health check as the task definition', () => {
    expect(embedding.healthcheck).toMatchObject({ interval: '30s', timeout: '10s', retries: 3, start_period: '30s' });
    expect(embedding.healthcheck.test).toEqual(healthCheckCommand(8003));
  });

  it('runs read-only with no writable mount (as on ECS) and a stop grace longer than the app drain', () => {
    expect(embedding.read_only).toBe(true);
    expect(embedding.tmpfs).toBeUndefined();
    expect(embedding.volumes).toBeUndefined();
    expect(embedding.stop_grace_period).toBe('30s');
  });

  it('documents commented clients that wait for a healthy embedding service', () => {
    const commented = text
      .slice(text.indexOf('# Clients'))
      .split('\n')
      .filter((l) => /^#  /.test(l))
      .map((l) => l.slice(1))
      .join('\n');
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const clients = (yaml.load(`services:\n${commented}`) as any).services;
    expect(Object.keys(clients).sort()).toEqual(['chat', 'django']);
    for (const client of Object.values(clients) as { environment: Record<string, string>; depends_on: unknown }[]) {
      expect(client.environment.EMBEDDING_SERVICE_URL).toBe('http://embedding:8003');
      expect(client.depends_on).toEqual({ embedding: { condition: 'service_healthy' } });
    }
  });
});
