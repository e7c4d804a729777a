import { ServiceProcess } from '../support/child';
import { faultEnv, sleep, within } from '../support/faults';
import { fullModelDir } from '../support/models';
import { waitUntilRead } from '../support/metrics';
import { postJson } from '../support/server';

/**
 * Real processes with faults injected into the inference worker thread (test/app/support/fault-preload.js):
 * the service must recover or report unhealthy within seconds, never answer /health 200 while
 * failing, and always shut down within the grace period.
 */
describe('inference worker faults', () => {
  let modelDir: string;
  const running: ServiceProcess[] = [];
  const start = async (env: Record<string, string>) => {
    const service = new ServiceProcess({ EMBEDDING_MODEL_DIR: modelDir, ...env });
    running.push(service);
    await service.waitHealthy();
    return { service, base: `http://127.0.0.1:${await service.port()}` };
  };
  const health = async (base: string) => {
    const response = await fetch(`${base}/health`);
    return { status: response.status, body: (await response.json()) as { status: string; reason?: string } };
  };
  const embed = (base: string, text = 'a short text') => postJson(`${base}/embed`, { texts: [text] });

  beforeAll(async () => {
    modelDir = await fullModelDir();
  });
  afterEach(() => {
    for (const service of running.splice(0)) service.kill('SIGKILL');
  });

  it.each([
    ['exits', 'exit@2', /exited with code 70/],
    ['crashes', 'crash@2', /injected crash/],
  ])('replaces a worker that %s mid-run: its request fails with 500 JSON, health says restarting, then all is well', async (_name, fault, logged) => {
    const { service, base } = await start(faultEnv(fault));
    expect((await embed(base)).status).toBe(200);

    const failed = await embed(base);
    expect(failed.status).toBe(500);
    expect(failed.body).toEqual({ detail: 'inference failed' });
    const right = await health(base);
    if (right.status !== 200) expect(right.body).toMatchObject({ status: 'restarting', reason: expect.stringMatching(logged) });

    const recoveryMs = await within(5000, async () => (await health(base)).status === 200);
    for (let i = 0; i < 3; i++) expect((await embed(base, `after ${i}`)).status).toBe(200);
    const failure = await service.waitForLog((e) => e.message === 'inference worker failed');
    expect(failure).toMatchObject({ level: 'error', cause: 'exit', error: expect.stringMatching(logged) });
    await service.waitForLog((e) => e.message === 'inference worker replaced');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^embedding_worker_failures_total\{cause="exit"\} 1$/m);
    process.stdout.write(`worker ${fault}: healthy again ${recoveryMs} ms after the failed request\n`);
  });

  it('reports failing (503) when the worker keeps dying, and never 200 while requests fail', async () => {
    const { base } = await start(faultEnv('exit@1+', { WORKER_FAILURE_LIMIT: '3', INFERENCE_TIMEOUT_MIN_MS: '2000' }));
    const started = Date.now();
    const statuses: number[] = [];
    let unhealthyAfterMs: number | undefined;
    while (Date.now() - started < 15_000) {
      const answer = await embed(base);
      statuses.push(answer.status);
      expect(answer.headers.get('content-type')).toMatch(/application\/json/);
      const now = await health(base);
      if (now.status !== 200 && now.body.status === 'failing') {
        unhealthyAfterMs = Date.now() - started;
        expect(now.body.reason).toMatch(/3 inference worker failures/);
        break;
      }
    }
    expect(unhealthyAfterMs).toBeDefined();
    expect(statuses.every((status) => status === 500 || status === 503)).toBe(true);
    // It stays unhealthy while the failures are recent.
    await sleep(500);
    expect((await health(base)).body.status).toBe('failing');
    process.stdout.write(`worker exit on every run: /health "failing" after ${unhealthyAfterMs} ms (${statuses.length} failed requests)\n`);
  });

  it('fails a hung run at its deadline, replaces the worker, and serves again', async () => {
    const { service, base } = await start(faultEnv('hang@2', { INFERENCE_TIMEOUT_MIN_MS: '1000' }));
    expect((await embed(base)).status).toBe(200);
    const started = Date.now();
    const hung = await embed(base);
    const failedAfterMs = Date.now() - started;
    expect(hung.status).toBe(500);
    expect(failedAfterMs).toBeGreaterThanOrEqual(900);
    expect(failedAfterMs).toBeLessThan(4000);
    const recoveryMs = await within(5000, async () => (await health(base)).status === 200);
    expect((await embed(base, 'after the hang')).status).toBe(200);
    expect(await service.waitForLog((e) => e.message === 'inference worker failed')).toMatchObject({ cause: 'timeout', error: expect.stringMatching(/deadline of \d+ ms/) });
    process.stdout.write(`hung run: failed after ${failedAfterMs} ms, healthy ${recoveryMs} ms later\n`);
  });

  it('reports failing while a terminated worker stays stuck in native code, and keeps serving from its replacement', async () => {
    const { base } = await start(faultEnv('block@2', { INFERENCE_TIMEOUT_MIN_MS: '1000', EMBEDDING_FAULT_BLOCK_S: '6' }));
    expect((await embed(base)).status).toBe(200);
    expect((await embed(base)).status).toBe(500);
    await within(3000, async () => {
      const now = await health(base);
      return now.status === 503 && now.body.status === 'failing' && /stuck in native code/.test(now.body.reason ?? '');
    });
    // The replacement loads the model meanwhile (seconds on a busy machine): until then a request is
    // refused as not ready, with Retry-After, and never fails.
    const refusals: number[] = [];
    await within(30_000, async () => {
      const answer = await embed(base, 'served by the replacement');
      if (answer.status !== 200) refusals.push(answer.status === 503 && answer.headers.get('retry-after') !== null ? 503 : answer.status);
      return answer.status === 200;
    });
    expect(refusals.filter((status) => status !== 503)).toEqual([]);
    // Once the native call returns, the old thread ends and health is clear again (one failure is under the limit).
    await within(10_000, async () => (await health(base)).status === 200);
  });

  it.each([
    ['hung', 'hang@1', 0],
    ['stuck in native code', 'block@1', null],
  ])('answers 503 + Retry-After and exits within the grace on SIGTERM while a run is %s', async (_name, fault, exitCode) => {
    const grace = 1500;
    const { service, base } = await start(faultEnv(fault, { INFERENCE_TIMEOUT_MIN_MS: '60000', SHUTDOWN_GRACE_MS: String(grace), EMBEDDING_FAULT_BLOCK_S: '20' }));
    const inFlight = embed(base);
    const openAi = postJson(`${base}/v1/embeddings`, { input: 'queued behind the hung run' });
    await waitUntilRead(base, '/embed', 2); // both in flight: neither still in the listen backlog, which closing resets
    await sleep(300);
    const signalled = Date.now();
    service.kill('SIGTERM');
    const [answer, openAiAnswer] = await Promise.all([inFlight, openAi]);
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('5');
    expect(answer.body.detail).toMatch(/shutting down/);
    expect(openAiAnswer.status).toBe(503);
    expect(openAiAnswer.body.error).toMatchObject({ code: 'not_ready' });
    const { code } = await service.exited;
    const exitMs = Date.now() - signalled;
    expect(code).toBe(exitCode);
    expect(exitMs).toBeLessThan(grace + 4500);
    process.stdout.write(`SIGTERM while ${fault}: exited (code ${code}) ${exitMs} ms after the signal, grace ${grace} ms\n`);
  });
});
