/**
 * The image, built and run for real: `npm run test:image` (.ci/run runs it after the test suite).
 *
 * Builds the project's Dockerfile unchanged with buildah, on a stand-in for its base (base.sh) and a
 * full-size synthetic model downloaded through a local hub mirror, with the host's CA bundle as a
 * build secret. Then runs it with podman as ECS does (read-only root, uid 1000, no writable mount)
 * and checks what a caller and an operator see. The last line is the figures: build s, image MB,
 * start s. Exit 0 only when every check passed; the image and containers are removed either way
 * (the base stays cached).
 */
import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ALL_MINILM_L6_V2 } from '../../app/provisioning/manifest';
import { REPO_ROOT, SYNTHETIC_MODEL_CACHE } from '../repo-paths';
import { ensureSyntheticModel } from '../synthetic-model/cached';
import { startModelMirror } from './model-mirror';
import { RUN_LIMITS, must, mustPodman, podman, stream } from './podman';
import { DIMENSION, checkEmbed, checkHealth, checkOpenAi, waitHealthy } from './probes';

/** `podman stop` grace: docker-compose.yml's stop_grace_period, above the app's 25 s drain. */
const STOP_GRACE_S = 30;
const START_TIMEOUT_MS = 60_000;
/** Where the writable run listens: one loopback address that is not 127.0.0.1 (HOST is not a wildcard). */
const SINGLE_HOST = '127.0.0.2';
/** The image's NODE_ENV=production refuses the synthetic model it is built with here, unless told to serve it. */
const ALLOW_SYNTHETIC = ['--env', 'ALLOW_SYNTHETIC_MODEL=true'];

const results: { name: string; ok: boolean; detail: string }[] = [];

async function check(name: string, body: () => Promise<string> | string): Promise<boolean> {
  try {
    const detail = await body();
    results.push({ name, ok: true, detail });
    console.log(`ok    ${name}${detail ? `: ${detail}` : ''}`);
    return true;
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    results.push({ name, ok: false, detail });
    console.log(`FAIL  ${name}: ${detail}`);
    return false;
  }
}

async function freePort(host: string): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function* walk(dir: string): AsyncGenerator<string> {
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else if (entry.isFile()) yield full;
  }
}

/** Checks on the image's files, read from a mount of it. */
async function inspectFiles(image: string, caBundle: string | undefined): Promise<void> {
  const root = mustPodman('image', 'mount', image);
  try {
    await check('onnxruntime binaries: the image platform only', async () => {
      const napi = path.join(root, 'app/node_modules/onnxruntime-node/bin/napi-v6');
      const platforms: string[] = [];
      for (const os of await fs.readdir(napi)) for (const arch of await fs.readdir(path.join(napi, os))) platforms.push(`${os}/${arch}`);
      if (platforms.join() !== `linux/${process.arch}`) throw new Error(`found ${platforms.join(', ')}; expected linux/${process.arch}`);
      return platforms.join();
    });
    await check('the CA bundle build secret is not in the image', async () => {
      if (caBundle === undefined) return 'no NODE_EXTRA_CA_CERTS on this machine, so none was passed';
      const bundle = await fs.readFile(caBundle);
      for await (const file of walk(root)) {
        const { size } = await fs.stat(file);
        if (size === bundle.length && bundle.equals(await fs.readFile(file))) throw new Error(`${file.slice(root.length)} is the bundle`);
      }
      return `no file with its ${bundle.length} bytes`;
    });
  } finally {
    podman('image', 'unmount', image);
  }
}

/** The image's HEALTHCHECK command, run in the container by podman. */
function healthCheck(container: string): string {
  const r = podman('healthcheck', 'run', container);
  if (r.status !== 0) throw new Error(`unhealthy, exit ${r.status} ${r.stdout.trim()} ${r.stderr.trim()}`.trim());
  return 'healthy';
}

/** SIGTERM through `podman stop`: the service drains and exits 0 before the grace runs out. */
async function checkStop(container: string): Promise<void> {
  await check(`${container}: SIGTERM, exit 0 within the ${STOP_GRACE_S} s grace`, () => {
    const started = performance.now();
    mustPodman('stop', '--time', String(STOP_GRACE_S), container);
    const seconds = (performance.now() - started) / 1000;
    const code = mustPodman('inspect', '--format', '{{.State.ExitCode}}', container);
    if (code !== '0' || seconds >= STOP_GRACE_S) throw new Error(`exit ${code} after ${seconds.toFixed(1)} s`);
    return `exit 0 in ${seconds.toFixed(1)} s`;
  });
}

async function checkNoWrites(container: string): Promise<void> {
  await check(`${container}: no file written (podman diff empty, no failed write logged)`, () => {
    const diff = mustPodman('diff', container);
    const logs = podman('logs', container);
    const complaints = `${logs.stdout}\n${logs.stderr}`.split('\n').filter((l) => /EROFS|read-only file system|\[Telemetry\]/i.test(l));
    if (diff !== '' || complaints.length > 0) throw new Error(`diff: ${diff || '(empty)'}; log: ${complaints.join(' | ') || '(clean)'}`);
    return '';
  });
}

const figures = { build: NaN, megabytes: NaN, start: NaN };

/** The build, with the model downloaded from a local mirror of the synthetic model; true when it succeeded. */
async function build(tag: string, caBundle: string | undefined): Promise<boolean> {
  const baseImage = must('bash', [path.join(REPO_ROOT, 'scripts/image/base.sh')]);
  console.log(`base  ${baseImage}`);
  const modelDir = await ensureSyntheticModel(SYNTHETIC_MODEL_CACHE, { size: 'full', int8: true });
  const mirror = await startModelMirror(modelDir, 'synthetic/all-MiniLM-L6-v2', ALL_MINILM_L6_V2);
  try {
    const built = await check('build: the Dockerfile unchanged, base and model source by --build-arg', async () => {
      const started = performance.now();
      const status = await stream('buildah', [
        'bud', '--format', 'docker', '--isolation', 'chroot', '--layers=false', '--quiet',
        '--build-arg', `NODE_IMAGE=${baseImage}`,
        '--build-arg', `HF_ENDPOINT=${mirror.endpoint}`,
        '--build-arg', `MODEL_PIN=${JSON.stringify(mirror.pin)}`,
        ...(caBundle ? ['--secret', `id=ca-bundle,src=${caBundle}`] : []),
        '--tag', tag, REPO_ROOT,
      ]);
      figures.build = (performance.now() - started) / 1000;
      if (status !== 0) throw new Error(`buildah bud exited with ${status}`);
      return `${figures.build.toFixed(1)} s`;
    });
    if (!built) return false;
    await check('the model came through the download, with the optional int8 file', () => {
      const expected = mirror.pin.files.map((f) => f.path).sort();
      const served = [...new Set(mirror.served)].sort();
      if (served.join() !== expected.join()) throw new Error(`served ${served.join(', ')}`);
      return `${served.length} files`;
    });
    return true;
  } finally {
    await mirror.close();
  }
}

/** Without ALLOW_SYNTHETIC_MODEL, the production image refuses its synthetic model: exit 1 and the message naming the variable. */
async function checkRefusesSynthetic(tag: string, name: string): Promise<void> {
  await check(`${name}: refuses the synthetic model under NODE_ENV=production, naming ALLOW_SYNTHETIC_MODEL`, () => {
    const r = podman('run', '--name', name, '--read-only', '--read-only-tmpfs=false', '--user', '1000:1000', ...RUN_LIMITS, tag);
    const code = mustPodman('inspect', '--format', '{{.State.ExitCode}}', name);
    const said = /is a synthetic model .* and NODE_ENV=production does not serve one[\s\S]*set ALLOW_SYNTHETIC_MODEL=true/.test(r.stderr);
    if (code !== '1' || !said || /^\s+at /m.test(r.stderr)) throw new Error(`exit ${code}; stderr: ${r.stderr.trim().slice(-600) || '(empty)'}`);
    return 'exit 1 with the message';
  });
}

/** As ECS runs it: read-only root, uid 1000, no writable mount, default HOST (0.0.0.0), a published port. */
async function runReadOnly(tag: string, name: string): Promise<void> {
  const started = performance.now();
  mustPodman('run', '--detach', '--name', name, '--read-only', '--read-only-tmpfs=false', '--user', '1000:1000',
    ...RUN_LIMITS, ...ALLOW_SYNTHETIC, '--publish', '127.0.0.1::8003', tag);
  const url = `http://${mustPodman('port', name, '8003/tcp').split('\n')[0]}`;
  const up = await check(`${name}: healthy (read-only root, uid 1000)`, async () => {
    figures.start = await waitHealthy(url, started, START_TIMEOUT_MS);
    return `${figures.start.toFixed(2)} s from podman run`;
  });
  if (up) {
    await check(`${name}: GET /health`, () => checkHealth(url));
    let vector: number[] = [];
    await check(`${name}: POST /embed, ${DIMENSION}-d unit vectors`, async () => {
      vector = await checkEmbed(url);
      return '';
    });
    await check(`${name}: POST /v1/embeddings, the same vector`, async () => {
      await checkOpenAi(url, vector);
      return '';
    });
    await check(`${name}: the image's HEALTHCHECK, run in the container`, () => healthCheck(name));
  }
  await checkStop(name);
  await checkNoWrites(name);
}

/** With a writable root, so that any write would show in podman diff; HOST one address, not a wildcard. */
async function runWritable(tag: string, name: string): Promise<void> {
  const port = await freePort(SINGLE_HOST);
  const started = performance.now();
  mustPodman('run', '--detach', '--name', name, '--network', 'host', '--user', '1000:1000', ...RUN_LIMITS, ...ALLOW_SYNTHETIC,
    '--env', `HOST=${SINGLE_HOST}`, '--env', `PORT=${port}`, tag);
  const url = `http://${SINGLE_HOST}:${port}`;
  const up = await check(`${name}: healthy on HOST=${SINGLE_HOST} (writable root)`, async () => {
    return `${(await waitHealthy(url, started, START_TIMEOUT_MS)).toFixed(2)} s`;
  });
  if (up) {
    await check(`${name}: POST /embed`, async () => {
      await checkEmbed(url);
      return '';
    });
    await check(`${name}: the HEALTHCHECK follows HOST`, () => healthCheck(name));
  }
  await checkStop(name);
  await checkNoWrites(name);
}

async function main(): Promise<number> {
  const tag = `localhost/embedding-service:check-${process.pid}`;
  const readOnly = `embedding-check-${process.pid}-ro`;
  const writable = `embedding-check-${process.pid}-rw`;
  const refusing = `embedding-check-${process.pid}-refuses`;
  const caBundle = process.env.NODE_EXTRA_CA_CERTS || undefined;
  try {
    if (await build(tag, caBundle)) {
      figures.megabytes = Number(mustPodman('image', 'inspect', '--format', '{{.Size}}', tag)) / 1e6;
      await check('image size under 450 MB', () => {
        if (!(figures.megabytes < 450)) throw new Error(`${figures.megabytes.toFixed(0)} MB`);
        return `${figures.megabytes.toFixed(0)} MB`;
      });
      await inspectFiles(tag, caBundle);
      await checkRefusesSynthetic(tag, refusing);
      await runReadOnly(tag, readOnly);
      await runWritable(tag, writable);
    }
  } catch (error) {
    await check('image check', () => {
      throw error;
    });
  } finally {
    podman('rm', '--force', '--ignore', readOnly, writable, refusing);
    podman('rmi', '--force', '--ignore', tag);
  }
  const failed = results.filter((r) => !r.ok).length;
  console.log(`image check: ${results.length - failed} passed, ${failed} failed`);
  const fmt = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : '-');
  console.log(`image figures: build ${fmt(figures.build, 1)} s, image ${fmt(figures.megabytes, 0)} MB, start ${fmt(figures.start, 2)} s`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
