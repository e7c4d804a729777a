import net from 'node:net';
import { ServiceProcess } from '../support/child';
import { fullModelDir } from '../support/models';
import { waitUntilRead } from '../support/metrics';
import { postJson } from '../support/server';

/** The real process: start-up and draining on SIGTERM (start-up failures: startup.test.ts). */
describe('service process', () => {
  let modelDir: string;
  const running: ServiceProcess[] = [];
  const spawnService = (env: Record<string, string>) => {
    const service = new ServiceProcess(env);
    running.push(service);
    return service;
  };

  beforeAll(async () => {
    modelDir = await fullModelDir();
  });
  afterEach(() => {
    for (const service of running.splice(0)) service.kill('SIGKILL');
  });

  // How fast it gets there is the benchmark's business (npm run bench: start to healthy), not a test's.
  it('becomes healthy with a local model and logs "model loaded in N ms"', async () => {
    const service = spawnService({ EMBEDDING_MODEL_DIR: modelDir });
    await service.waitHealthy();
    const loaded = await service.waitForLog((e) => typeof e.message === 'string' && /^model loaded in \d+ ms$/.test(e.message));
    expect(loaded.level).toBe('info');
    expect(loaded.load_ms).toEqual(expect.any(Number));
  });

  it('on SIGTERM while the model is still loading, lets the load finish and exits 0 (no native abort)', async () => {
    // Tearing down the worker thread in the middle of onnxruntime's session creation aborts the
    // process (exit 134). The window is short, so try a few times.
    let stoppedWhileLoading = 0;
    for (let attempt = 0; attempt < 3; attempt++) {
      const service = spawnService({ EMBEDDING_MODEL_DIR: modelDir });
      const base = `http://127.0.0.1:${await service.port()}`;
      const health = await fetch(`${base}/health`).then((r) => r.json() as Promise<{ status: string }>);
      if (health.status !== 'starting') continue; // loaded before we looked: nothing to test this time
      service.kill('SIGTERM');
      stoppedWhileLoading++;
      const { code, signal } = await service.exited;
      expect({ code, signal, aborted: /terminate called/.test(service.stderr) }).toEqual({ code: 0, signal: null, aborted: false });
    }
    expect(stoppedWhileLoading).toBeGreaterThan(0);
  });

  // A grace and a wait bound far above what the requests need: these tests are about draining, not
  // timing. Four requests of 40 texts took 40 s with the machine's two cores busy with other work
  // (load average 6.5), past an earlier 20 s grace.
  const LONG_GRACE_MS = '100000';

  it('finishes every in-flight request on SIGTERM, refuses new connections, then exits 0', async () => {
    const service = spawnService({ EMBEDDING_MODEL_DIR: modelDir, SHUTDOWN_GRACE_MS: LONG_GRACE_MS, MAX_QUEUE_WAIT_MS: '60000' });
    await service.waitHealthy();
    const base = `http://127.0.0.1:${await service.port()}`;
    const text = 'a sentence long enough to take the model some time to embed properly '.repeat(8);
    const inFlight = Array.from({ length: 4 }, (_, i) =>
      postJson(`${base}/embed`, { texts: Array.from({ length: 40 }, (_, j) => `${i}-${j} ${text}`) }),
    );
    await waitUntilRead(base, '/embed', 4);
    service.kill('SIGTERM');
    const results = await Promise.all(inFlight);
    for (const result of results) {
      expect(result.status).toBe(200);
      expect(result.body.embeddings).toHaveLength(40);
    }
    const { code } = await service.exited;
    expect(code).toBe(0);
    await expect(fetch(`${base}/health`)).rejects.toThrow();
    expect(service.logs.some((e) => e.message === 'stopped')).toBe(true);
  }, 240_000);

  it('with a short grace, answers what cannot finish with 503 + Retry-After instead of a reset, and exits in time', async () => {
    const grace = 1000;
    const service = spawnService({ EMBEDDING_MODEL_DIR: modelDir, SHUTDOWN_GRACE_MS: String(grace), MAX_QUEUE_WAIT_MS: '60000' });
    await service.waitHealthy();
    const base = `http://127.0.0.1:${await service.port()}`;
    const text = 'a sentence long enough to take the model some time to embed properly '.repeat(8);
    const inFlight = Array.from({ length: 20 }, (_, i) =>
      postJson(`${base}/v1/embeddings`, { input: Array.from({ length: 40 }, (_, j) => `${i}-${j} ${text}`) }).catch((error: Error) => ({ status: 0, headers: new Headers(), body: error.message })),
    );
    await waitUntilRead(base, '/v1/embeddings', 20);
    const signalled = Date.now();
    service.kill('SIGTERM');
    const results = await Promise.all(inFlight);
    const { code } = await service.exited;
    const exitMs = Date.now() - signalled;
    const finished = results.filter((r) => r.status === 200).length;
    const refused = results.filter((r) => r.status === 503);
    process.stdout.write(`SIGTERM with grace ${grace} ms and 20 requests of 40 texts in flight: ${finished} finished, ${refused.length} answered 503, exit after ${exitMs} ms\n`);
    expect(finished + refused.length).toBe(20); // no connection reset
    expect(refused.length).toBeGreaterThan(0);
    for (const response of refused) {
      expect(response.headers.get('retry-after')).toBe('5');
      expect(response.body.error).toMatchObject({ code: 'not_ready', message: expect.stringMatching(/shutting down/) });
    }
    expect(code).toBe(0);
    expect(exitMs).toBeLessThan(grace + 4500);
  });

  it('refuses a connection that arrives after SIGTERM (connection refused, not a reset after the request was sent)', async () => {
    const service = spawnService({ EMBEDDING_MODEL_DIR: modelDir, SHUTDOWN_GRACE_MS: LONG_GRACE_MS, MAX_QUEUE_WAIT_MS: '60000' });
    await service.waitHealthy();
    const port = await service.port();
    const base = `http://127.0.0.1:${port}`;
    const text = 'a sentence long enough to take the model some time to embed properly '.repeat(8);
    // Work that keeps the process draining while the late request comes.
    const inFlight = postJson(`${base}/embed`, { texts: Array.from({ length: 40 }, (_, j) => `${j} ${text}`) });
    await waitUntilRead(base, '/embed', 1);
    service.kill('SIGTERM');
    await service.waitForLog((e) => e.message === 'draining'); // logged once the listener is closed
    // A new connection, as a new client makes: fetch would reuse an idle keep-alive connection
    // of this test's own polls, which the server closes at shutdown (a reset of another kind).
    const late = await new Promise<string>((resolve) => {
      const socket = net.connect({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
    expect(late).toBe('ECONNREFUSED');
    expect((await inFlight).status).toBe(200);
    expect((await service.exited).code).toBe(0);
  }, 240_000);
});
