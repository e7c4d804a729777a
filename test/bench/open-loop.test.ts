import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runLoad } from '../../bench/load';
import { arrivalSchedule, runOpenLoop } from '../../bench/open-loop';
import { mulberry32 } from '../../scripts/synthetic-model/random';
import { TextStream } from '../../bench/texts';

/** A real server that answers one request at a time, each taking `serviceMs`: capacity 1000/serviceMs requests a second. */
async function serialServer(serviceMs: number, status = 200): Promise<{ port: number; close(): Promise<void>; received(): number }> {
  let busyUntil = 0;
  let received = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      const now = performance.now();
      busyUntil = Math.max(now, busyUntil) + serviceMs;
      setTimeout(() => res.writeHead(status, { 'content-type': 'application/json' }).end('{"embeddings":[]}'), busyUntil - now);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    received: () => received,
    close: () => new Promise<void>((resolve) => (server.close(() => resolve()), server.closeAllConnections())),
  };
}

const texts = () => new TextStream('short', 0);

describe('arrival schedule', () => {
  it('uniform: exactly rate × duration sends, evenly spaced', () => {
    const times = arrivalSchedule(50, 2, 'uniform');
    expect(times).toHaveLength(100);
    expect(times[1]! - times[0]!).toBeCloseTo(20);
    expect(times[99]!).toBeCloseTo(1980);
  });

  it('poisson: the asked mean rate, exponential gaps, the same schedule for the same seed', () => {
    const times = arrivalSchedule(200, 20, 'poisson', 7);
    expect(times.length).toBeGreaterThan(4000 * 0.95);
    expect(times.length).toBeLessThan(4000 * 1.05);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // Exponential gaps: about 37 % (e^-1) are longer than the mean gap of 5 ms, and some are 4× longer.
    const longer = gaps.filter((g) => g > 5).length / gaps.length;
    expect(longer).toBeGreaterThan(0.33);
    expect(longer).toBeLessThan(0.41);
    expect(gaps.some((g) => g > 20)).toBe(true);
    expect(times.every((t, i) => i === 0 || t >= times[i - 1]!)).toBe(true);
    expect(arrivalSchedule(200, 20, 'poisson', 7)).toEqual(times);
    expect(arrivalSchedule(200, 20, 'poisson', 8)).not.toEqual(times);
  });

  it('the PRNG is uniform on [0, 1)', () => {
    const random = mulberry32(3);
    const values = Array.from({ length: 10000 }, random);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    expect(values.reduce((a, b) => a + b, 0) / values.length).toBeCloseTo(0.5, 1);
  });
});

describe('open-loop runs against a real server', () => {
  it('below capacity: every request answered, latency near the service time, the offered rate as asked', async () => {
    const server = await serialServer(5); // 200 requests/s capacity
    try {
      const result = await runOpenLoop({ port: server.port, ratePerS: 40, durationS: 1.5, settleS: 0.3, textsPerRequest: 1, texts: texts(), arrivals: 'uniform' });
      expect(result.requests).toBe(60);
      expect(result.ok).toBe(60);
      expect(result.flagged).toBe(false);
      expect(result.offeredRatePerS).toBeCloseTo(40);
      expect(result.textsPerS).toBeCloseTo(40);
      expect(result.p50Ms).toBeGreaterThanOrEqual(4);
      // No backlog builds up (above capacity it would reach seconds); the margin is for a busy machine's timer slack.
      expect(result.p99Ms).toBeLessThan(400);
      expect(server.received()).toBe(72); // the settle period's requests were sent too, just not counted
    } finally {
      await server.close();
    }
  });

  it('above capacity the queue shows: latency from the scheduled time grows, where a closed loop sees only the service time', async () => {
    const server = await serialServer(10); // 100 requests/s capacity, asked for 200/s
    try {
      const open = await runOpenLoop({ port: server.port, ratePerS: 200, durationS: 1, settleS: 0, textsPerRequest: 1, texts: texts(), arrivals: 'uniform' });
      expect(open.ok).toBe(200);
      // The last requests wait for ~1 s of backlog (200 sent, 100 served a second).
      expect(open.p99Ms).toBeGreaterThan(700);
      expect(open.p50Ms).toBeGreaterThan(300);
      const closed = await runLoad({ port: server.port, connections: 1, durationS: 1, textsPerRequest: 1, texts: texts() });
      expect(open.p99Ms / closed.p99Ms).toBeGreaterThan(2.5); // ~1000 vs ~10 ms on an idle machine
    } finally {
      await server.close();
    }
  });

  it('with one connection, time waiting for it counts from the schedule; the service time alone hides it', async () => {
    const server = await serialServer(10);
    try {
      const result = await runOpenLoop({ port: server.port, ratePerS: 150, durationS: 1, settleS: 0, textsPerRequest: 1, texts: texts(), arrivals: 'uniform', maxConnections: 1 });
      expect(result.ok).toBe(150);
      expect(result.maxInFlight).toBeGreaterThan(20);
      expect(result.p99Ms).toBeGreaterThan(300);
      expect(result.p99Ms / result.serviceP99Ms).toBeGreaterThan(2.5); // ~500 vs ~10 ms on an idle machine
    } finally {
      await server.close();
    }
  });

  it('a server that does not answer: every request times out, the run still ends on time', async () => {
    const server = http.createServer(() => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const started = performance.now();
    try {
      const result = await runOpenLoop({ port: (server.address() as AddressInfo).port, ratePerS: 20, durationS: 0.5, settleS: 0, textsPerRequest: 1, texts: texts(), timeoutS: 0.3 });
      expect(performance.now() - started).toBeLessThan(3000);
      expect(result.ok).toBe(0);
      expect(result.timeouts).toBe(result.requests);
      expect(result.flagged).toBe(true);
      expect(Number.isNaN(result.p99Ms)).toBe(true);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('counts non-2xx answers and connection errors as failures', async () => {
    const server = await serialServer(1, 503);
    try {
      const result = await runOpenLoop({ port: server.port, ratePerS: 50, durationS: 0.4, settleS: 0, textsPerRequest: 1, texts: texts(), arrivals: 'uniform' });
      expect(result.non2xx).toBe(20);
      expect(result.flagged).toBe(true);
    } finally {
      await server.close();
    }
    const refused = await runOpenLoop({ port: server.port, ratePerS: 50, durationS: 0.2, settleS: 0, textsPerRequest: 1, texts: texts(), arrivals: 'uniform' });
    expect(refused.errors).toBe(10);
  });
});
