import http from 'node:http';
import { quantile } from './load';
import type { TextStream } from './texts';
import { mulberry32 } from '../scripts/synthetic-model/random';

/**
 * An open-loop load generator: requests leave on a schedule fixed before the run, whether or not
 * earlier ones have been answered, and each request's latency is measured from its *scheduled* send
 * time. A server that stalls therefore sees the requests that would have arrived meanwhile, and
 * their waiting shows in the percentiles (no coordinated omission). autocannon cannot do this: with
 * `overallRate`/`connectionRate` each connection still waits for its response before sending the
 * next request and only caps how many it sends per second (see docs/benchmark.md).
 */

/** How send times are spread: independent callers (exponential gaps) or a metronome. */
export type Arrivals = 'poisson' | 'uniform';

export interface OpenLoopOptions {
  /** Loopback port of the server under test (the host is always 127.0.0.1). */
  readonly port: number;
  readonly ratePerS: number;
  /** Measured seconds: requests scheduled in this window are counted. */
  readonly durationS: number;
  /** Seconds sent at the same rate before the window, not counted (the queue reaches its steady state). */
  readonly settleS: number;
  readonly textsPerRequest: number;
  readonly texts: TextStream;
  readonly arrivals?: Arrivals;
  readonly seed?: number;
  /** A request not answered this long after its scheduled time is abandoned and counted as a timeout. */
  readonly timeoutS?: number;
  /** Most connections open at once; requests beyond wait for one (and that wait counts). */
  readonly maxConnections?: number;
  readonly path?: string;
}

export interface OpenLoopResult {
  readonly arrivals: Arrivals;
  readonly targetRatePerS: number;
  /** Requests scheduled in the measured window ÷ its length. */
  readonly offeredRatePerS: number;
  readonly durationS: number;
  readonly textsPerRequest: number;
  /** Requests scheduled in the measured window. */
  readonly requests: number;
  /** Of those, answered 2xx. */
  readonly ok: number;
  readonly textsPerS: number;
  /** Latency of 2xx responses from the scheduled send time, ms. */
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** p99 from the moment a connection took the request (what a closed-loop tool reports). */
  readonly serviceP99Ms: number;
  /** How late the generator itself sent (actual − scheduled), ms: large values mean it could not keep up. */
  readonly sendLagP99Ms: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly maxInFlight: number;
  /** Responses of any status over the whole run, settle period included (what the server answered). */
  readonly answeredTotal: number;
  /** Some request of the window failed (non-2xx, error, timeout) or none succeeded. */
  readonly flagged: boolean;
}

/** Send times in ms from the start, ascending, for `ratePerS` requests a second over `durationS`. */
export function arrivalSchedule(ratePerS: number, durationS: number, arrivals: Arrivals, seed = 1): number[] {
  if (!(ratePerS > 0) || !(durationS > 0)) return [];
  const totalMs = durationS * 1000;
  const gapMs = 1000 / ratePerS;
  const times: number[] = [];
  if (arrivals === 'uniform') {
    const count = Math.ceil(ratePerS * durationS - 1e-9); // every i with i × gap < duration, without float drift
    for (let i = 0; i < count; i++) times.push(i * gapMs);
    return times;
  }
  const random = mulberry32(seed);
  for (let t = -Math.log(1 - random()) * gapMs; t < totalMs; t += -Math.log(1 - random()) * gapMs) times.push(t);
  return times;
}

type Outcome = 'ok' | 'non2xx' | 'error' | 'timeout';

interface Sent {
  readonly scheduledAt: number;
  /** When the generator got round to it (scheduled + the generator's own lag). */
  readonly calledAt: number;
  /** When a connection took it (later than calledAt when every connection was busy). */
  sentAt: number;
  doneAt: number;
  outcome?: Outcome;
  request?: http.ClientRequest;
}

/** Runs the schedule against `POST /embed` on 127.0.0.1; resolves once every request has an outcome. */
export function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const arrivals = options.arrivals ?? 'poisson';
  const timeoutMs = (options.timeoutS ?? 10) * 1000;
  const settleMs = options.settleS * 1000;
  const windowMs = options.durationS * 1000;
  const schedule = arrivalSchedule(options.ratePerS, options.settleS + options.durationS, arrivals, options.seed ?? 1);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.maxConnections ?? 256 });
  const sent: Sent[] = [];
  const inFlight = new Set<Sent>();
  let maxInFlight = 0;

  return new Promise((resolve) => {
    const start = performance.now() + 5;
    let next = 0;
    let pumpTimer: NodeJS.Timeout | undefined;

    const settle = (entry: Sent, outcome: Outcome) => {
      if (entry.outcome) return;
      entry.outcome = outcome;
      entry.doneAt = performance.now();
      inFlight.delete(entry);
      if (outcome === 'timeout' || outcome === 'error') entry.request?.destroy();
      entry.request = undefined;
      if (next >= schedule.length && inFlight.size === 0) finish();
    };

    const send = (scheduledAt: number) => {
      const calledAt = performance.now();
      const entry: Sent = { scheduledAt, calledAt, sentAt: calledAt, doneAt: NaN };
      sent.push(entry);
      inFlight.add(entry);
      maxInFlight = Math.max(maxInFlight, inFlight.size);
      const body = JSON.stringify({ texts: options.texts.take(options.textsPerRequest) });
      const request = http.request(
        {
          host: '127.0.0.1',
          port: options.port,
          path: options.path ?? '/embed',
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (response) => {
          response.resume();
          response.once('end', () => settle(entry, response.statusCode !== undefined && response.statusCode >= 200 && response.statusCode < 300 ? 'ok' : 'non2xx'));
          response.once('error', () => settle(entry, 'error'));
        },
      );
      entry.request = request;
      request.once('socket', () => (entry.sentAt = performance.now()));
      request.once('error', () => settle(entry, 'error'));
      request.end(body);
    };

    const pump = () => {
      const now = performance.now();
      while (next < schedule.length && start + (schedule[next] as number) <= now) send(start + (schedule[next++] as number));
      if (next < schedule.length) pumpTimer = setTimeout(pump, Math.max(0, start + (schedule[next] as number) - performance.now()));
      else if (inFlight.size === 0) finish();
    };

    // Abandons requests that have waited longer than the timeout since their scheduled time.
    const reaper = setInterval(() => {
      const now = performance.now();
      for (const entry of inFlight) if (now - entry.scheduledAt > timeoutMs) settle(entry, 'timeout');
    }, 50);

    let finished = false;
    function finish() {
      if (finished) return;
      finished = true;
      clearInterval(reaper);
      if (pumpTimer) clearTimeout(pumpTimer);
      agent.destroy();
      resolve(summarise(sent, start + settleMs, start + settleMs + windowMs, options, arrivals, maxInFlight));
    }

    if (schedule.length === 0) finish();
    else pumpTimer = setTimeout(pump, 5);
  });
}

function summarise(all: readonly Sent[], from: number, to: number, options: OpenLoopOptions, arrivals: Arrivals, maxInFlight: number): OpenLoopResult {
  const window = all.filter((s) => s.scheduledAt >= from && s.scheduledAt < to);
  const ok = window.filter((s) => s.outcome === 'ok');
  const sorted = (values: number[]) => values.sort((a, b) => a - b);
  const latency = sorted(ok.map((s) => s.doneAt - s.scheduledAt));
  const service = sorted(ok.map((s) => s.doneAt - s.sentAt));
  const lag = sorted(window.map((s) => s.calledAt - s.scheduledAt));
  const count = (outcome: Outcome) => window.filter((s) => s.outcome === outcome).length;
  const durationS = options.durationS;
  const failed = window.length - ok.length;
  return {
    arrivals,
    targetRatePerS: options.ratePerS,
    offeredRatePerS: window.length / durationS,
    durationS,
    textsPerRequest: options.textsPerRequest,
    requests: window.length,
    ok: ok.length,
    textsPerS: (ok.length * options.textsPerRequest) / durationS,
    p50Ms: quantile(latency, 0.5),
    p90Ms: quantile(latency, 0.9),
    p99Ms: quantile(latency, 0.99),
    maxMs: latency[latency.length - 1] ?? NaN,
    serviceP99Ms: quantile(service, 0.99),
    sendLagP99Ms: quantile(lag, 0.99),
    non2xx: count('non2xx'),
    errors: count('error'),
    timeouts: count('timeout'),
    maxInFlight,
    answeredTotal: all.filter((s) => s.outcome === 'ok' || s.outcome === 'non2xx').length,
    flagged: failed > 0 || ok.length === 0,
  };
}
