import { ServiceProcess } from '../support/child';
import { generateLoad, peakRssMb, percentile, probeWhile, timed, type Sample } from '../support/load';
import { fullModelDir } from '../support/models';

const MAX_QUEUE_WAIT_MS = 3000;

/**
 * 10x overload of a real service process on loopback: it must shed at once (503 p99 under a fifth
 * of the accepted requests' p50), keep the requests it accepts within the queue-wait bound, answer
 * /health within 1 s (p99) and stay under 600 MB of RSS, including while 64 clients send 2 MB bodies
 * at once.
 */
describe('overload', () => {
  let service: ServiceProcess;
  let base: string;

  beforeAll(async () => {
    service = new ServiceProcess({ EMBEDDING_MODEL_DIR: await fullModelDir(), MAX_QUEUE_WAIT_MS: String(MAX_QUEUE_WAIT_MS) });
    await service.waitHealthy();
    base = `http://127.0.0.1:${await service.port()}`;
  });
  afterAll(() => service.kill('SIGKILL'));

  // Requests of 24 texts: 10x the capacity in work at a request rate the load generator times precisely.
  const TEXTS_PER_REQUEST = 24;
  const request = { texts: Array.from({ length: TEXTS_PER_REQUEST }, (_, j) => `text ${j}: the farmers market opens on Saturday with live music and food stalls`) };
  const health = () => timed(() => fetch(`${base}/health`));
  const queueWaits = () => service.logs.filter((e) => e.message === 'request' && e.path === '/embed' && e.status === 200).map((e) => e.queue_ms as number);
  const shedReasons = async () => {
    const metrics = await (await fetch(`${base}/metrics`)).text();
    return Object.fromEntries([...metrics.matchAll(/^embedding_shed_requests_total\{reason="(\w+)"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
  };
  const summary = (samples: readonly Sample[]) => {
    const ms = samples.map((s) => s.ms);
    return `p50 ${percentile(ms, 50).toFixed(1)} ms, p95 ${percentile(ms, 95).toFixed(1)} ms, p99 ${percentile(ms, 99).toFixed(1)} ms, max ${Math.max(...ms).toFixed(0)} ms`;
  };

  it('sheds at once, keeps accepted requests within the wait bound, and /health answers', async () => {
    // Capacity: two callers back to back (the batcher merges them), for 3 s.
    const calibration = await generateLoad(`${base}/embed`, request, { mode: 'closed', concurrency: 2, durationMs: 3000 });
    expect(calibration.every((s) => s.status === 200)).toBe(true);
    const capacity = calibration.length / 3; // requests per second
    const rate = capacity * 10;

    const load = generateLoad(`${base}/embed`, request, { mode: 'open', rate, durationMs: 8000, maxRequests: 2500 });
    const probes = probeWhile(load, 100, health);
    const [samples, healthSamples] = await Promise.all([load, probes]);

    const accepted = samples.filter((s) => s.status === 200);
    const shed = samples.filter((s) => s.status === 503);
    // Two kinds of 503: refused at admission, at once; and admitted, then refused before its run
    // because the machine slowed down past the estimate it was admitted on (`expired`): that one
    // has waited, but never past the bound. The first kind is the shedding; the second must be rare.
    const late = shed.filter((s) => /could not start within/.test(s.detail));
    const atOnce = shed.filter((s) => !late.includes(s));
    const waits = queueWaits();
    const reasons = await shedReasons();
    const line =
      `10x overload: capacity ${capacity.toFixed(1)} req/s (${TEXTS_PER_REQUEST} texts each), offered ${rate.toFixed(0)} req/s for 8 s: ` +
      `${samples.length} requests, ${accepted.length} accepted (${summary(accepted)}), ${atOnce.length} shed at once (${summary(atOnce)}), ` +
      `${late.length} expired in the queue${late.length > 0 ? ` (${summary(late)})` : ''} (by reason ${JSON.stringify(reasons)}), ` +
      `accepted queue wait max ${Math.max(...waits).toFixed(0)} ms (bound ${MAX_QUEUE_WAIT_MS}), /health ${summary(healthSamples)}, peak RSS ${peakRssMb(service.child.pid as number)} MB`;
    process.stdout.write(`${line}\n`);

    expect(samples.every((s) => (s.status === 200 || s.status === 503) && s.json)).toBe(true);
    expect(shed.length).toBeGreaterThan(samples.length / 2);
    expect(accepted.length).toBeGreaterThan(0);
    // "At once" relative to the same run, not in absolute milliseconds (this machine's speed varies
    // several-fold with its neighbours): a refusal takes a small fraction of what an accepted request
    // waits and runs. Measured: 0.017-0.055 of the accepted p50, from idle to load average 5.
    expect(percentile(atOnce.map((s) => s.ms), 99)).toBeLessThan(0.2 * percentile(accepted.map((s) => s.ms), 50));
    expect(late.length).toBeLessThanOrEqual(0.05 * samples.length);
    expect(Math.max(0, ...late.map((s) => s.ms))).toBeLessThan(MAX_QUEUE_WAIT_MS + 1000);
    expect(Math.max(...waits)).toBeLessThanOrEqual(MAX_QUEUE_WAIT_MS);
    expect(healthSamples.every((s) => s.status === 200)).toBe(true);
    expect(percentile(healthSamples.map((s) => s.ms), 99)).toBeLessThan(1000);
    expect(peakRssMb(service.child.pid as number)).toBeLessThan(600);
  });

  it('keeps /health answering while 64 clients send 2 MB bodies at once', async () => {
    const big = { texts: Array.from({ length: 100 }, (_, i) => `${i} ${'lorem ipsum dolor sit amet '.repeat(770)}`.slice(0, 20_000)) };
    expect(JSON.stringify(big).length).toBeGreaterThan(1.9 * 1024 * 1024);
    const uploads = generateLoad(`${base}/embed`, big, { mode: 'burst', count: 64 });
    const probes = probeWhile(uploads, 100, health);
    const [answers, healthSamples] = await Promise.all([uploads, probes]);
    const statuses = answers.reduce<Record<number, number>>((counts, s) => ({ ...counts, [s.status]: (counts[s.status] ?? 0) + 1 }), {});
    process.stdout.write(
      `64 x 2 MB bodies at once: statuses ${JSON.stringify(statuses)} (shed so far by reason ${JSON.stringify(await shedReasons())}), 503 ${summary(answers.filter((s) => s.status === 503))}, ` +
        `/health ${summary(healthSamples)} (${healthSamples.length} probes), peak RSS ${peakRssMb(service.child.pid as number)} MB\n`,
    );
    expect(answers.every((s) => (s.status === 200 || s.status === 503) && s.json)).toBe(true);
    expect(statuses[200]).toBeGreaterThan(0);
    expect(healthSamples.every((s) => s.status === 200)).toBe(true);
    expect(percentile(healthSamples.map((s) => s.ms), 99)).toBeLessThan(1000);
    expect(peakRssMb(service.child.pid as number)).toBeLessThan(600);
  });
});
