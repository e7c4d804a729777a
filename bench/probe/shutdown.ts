import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../scripts/repo-paths';
import { freePort, startServer } from '../server-process';
import { sleep, tally, timedFetch } from './observe';

/**
 * SIGTERM to exit, with a 1 s grace and 8 requests of 40 texts in flight (signalled 0.4 s after they
 * were sent): as the run goes, hung (never settles) or stuck in native code (the process then kills
 * itself), with a trace collector that answers or one that never does. The faults are injected into
 * the inference thread by test/app/support/fault-preload.js, from outside the service.
 */
export interface ShutdownCase {
  readonly run: 'normal' | 'hung' | 'stuck';
  readonly collector: 'answering' | 'silent';
  readonly exitMs: number;
  readonly exit: string;
  readonly answers: Record<string, number>;
}

const FAULTS = { normal: undefined, hung: 'hang@1', stuck: 'block@1' } as const;
const GRACE_MS = 1000;

async function collector(answers: boolean): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    if (answers) req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function shutdownCase(repo: string, modelDir: string, run: ShutdownCase['run'], kind: ShutdownCase['collector']): Promise<ShutdownCase> {
  const sink = await collector(kind === 'answering');
  const fault = FAULTS[run];
  const counterDir = fs.mkdtempSync(path.join(os.tmpdir(), 'probe-fault-'));
  try {
    const port = await freePort();
    const server = await startServer(
      {
        name: `shutdown-${run}-${kind}`,
        script: path.join(repo, 'dist', 'app', 'main.js'),
        cwd: repo,
        env: {
          HOST: '127.0.0.1',
          PORT: String(port),
          EMBEDDING_MODEL_DIR: modelDir,
          MODEL_AUTO_DOWNLOAD: 'false',
          SHUTDOWN_GRACE_MS: String(GRACE_MS),
          INFERENCE_TIMEOUT_MIN_MS: '60000',
          MAX_QUEUE_WAIT_MS: '60000',
          OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
          ...(fault
            ? {
                NODE_OPTIONS: `--require ${path.join(REPO_ROOT, 'test', 'app', 'support', 'fault-preload.js')}`,
                EMBEDDING_FAULT: fault,
                EMBEDDING_FAULT_COUNTER: path.join(counterDir, 'runs'),
                EMBEDDING_FAULT_BLOCK_S: '20',
              }
            : {}),
        },
      },
      port,
    );
    const text = 'a sentence long enough to take the model some time to embed properly '.repeat(8);
    const requests = Array.from({ length: 8 }, (_, i) =>
      timedFetch(`http://127.0.0.1:${port}/embed`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ texts: Array.from({ length: 40 }, (_, j) => `${i} ${j} ${text}`) }),
      }),
    );
    await sleep(400);
    const signalled = performance.now();
    const stopped = await server.stop();
    const exitMs = Math.round(performance.now() - signalled);
    return { run, collector: kind, exitMs, exit: stopped.exit, answers: tally(await Promise.all(requests), (r) => r.status) };
  } finally {
    await sink.close();
    fs.rmSync(counterDir, { recursive: true, force: true });
  }
}

export async function shutdownTimes(repo: string, modelDir: string): Promise<ShutdownCase[]> {
  const cases: ShutdownCase[] = [];
  for (const run of ['normal', 'hung', 'stuck'] as const) {
    for (const kind of ['answering', 'silent'] as const) cases.push(await shutdownCase(repo, modelDir, run, kind));
  }
  return cases;
}
