import { ServiceProcess } from '../support/child';
import { fuzzCases } from '../../../bench/probe/fuzz-cases';
import { isJson, peakRssMb } from '../support/load';
import { fullModelDir } from '../support/models';
import { rawRequest } from '../support/raw-http';

/** Fixed seed; FUZZ_REQUESTS raises the count (e.g. 12000) for a longer run, FUZZ_SEED changes the cases. */
const SEED = Number(process.env.FUZZ_SEED ?? 20_240_501);
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 1500);
const CONCURRENCY = 4;

/**
 * Hostile and careless requests against a real service process: malformed JSON and HTTP, wrong
 * types and methods, token ids, odd dimensions, lying Content-Length, corrupt compression, huge
 * headers and texts. Every answer must be JSON and none a 5xx; the process must stay healthy and
 * under 600 MB.
 */
describe('fuzz', () => {
  it(`answers ${REQUESTS} hostile requests (seed ${SEED}) with JSON and never a 5xx`, async () => {
    const service = new ServiceProcess({ EMBEDDING_MODEL_DIR: await fullModelDir(), REQUEST_TIMEOUT_MS: '1000', MAX_QUEUE_WAIT_MS: '60000' });
    try {
      await service.waitHealthy();
      const port = await service.port();
      const next = fuzzCases(SEED);
      const cases = Array.from({ length: REQUESTS }, (_, i) => next(i));
      const failures: string[] = [];
      const statuses: Record<string, number> = {};
      const started = Date.now();
      let cursor = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (cursor < cases.length) {
            const index = cursor++;
            const fuzz = cases[index] as (typeof cases)[number];
            const response = await rawRequest(port, [fuzz.bytes], 15_000);
            const key = String(response.status ?? 'none');
            statuses[key] = (statuses[key] ?? 0) + 1;
            const problem =
              response.status === undefined ? 'no response'
              : response.status >= 500 ? `status ${response.status}`
              : fuzz.expectsJson && !(/application\/json/.test(response.headers['content-type'] ?? '') && isJson(response.body)) ? 'not JSON'
              : /\bat .*\.(js|ts):\d+/.test(response.body) ? 'stack trace'
              : undefined;
            if (problem) failures.push(`#${index} ${fuzz.description}: ${problem} ${response.body.slice(0, 200)}`);
          }
        }),
      );
      const health = await fetch(`http://127.0.0.1:${port}/health`);
      if (failures.length > 0) {
        const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        process.stdout.write(metrics.split('\n').filter((l) => /^embedding_(admitted|queued|shed|worker|http_body_bytes_held|http_response_bytes_held|http_requests_in_flight|inference_runs|run)/.test(l)).join('\n') + '\n');
        process.stdout.write(JSON.stringify(service.logs.filter((e) => e.level !== 'info').slice(-15)) + '\n');
        process.stdout.write(`first failure ${failures[0]}\n`);
        const firstIndex = Number(/^#(\d+)/.exec(failures[0] ?? '')?.[1]);
        for (let i = Math.max(0, firstIndex - 12); i < firstIndex; i++) process.stdout.write(`case #${i}: ${(cases[i] as (typeof cases)[number]).description}\n`);
      }
      const rss = peakRssMb(service.child.pid as number);
      process.stdout.write(`fuzz: ${REQUESTS} requests (seed ${SEED}) in ${Date.now() - started} ms, statuses ${JSON.stringify(statuses)}, peak RSS ${rss} MB\n`);
      expect(failures).toEqual([]);
      expect(health.status).toBe(200);
      expect(service.child.exitCode).toBeNull();
      expect(service.logs.filter((e) => e.level === 'error')).toEqual([]);
      expect(rss).toBeLessThan(600);
    } finally {
      service.kill('SIGKILL');
    }
  });
});
