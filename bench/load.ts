import autocannon from 'autocannon';
import type { TextStream } from './texts';

export interface LoadOptions {
  /** Loopback port of the server under test (the host is always 127.0.0.1). */
  readonly port: number;
  readonly connections: number;
  readonly durationS: number;
  readonly textsPerRequest: number;
  /** Where request texts come from; every request takes fresh ones, so no text is sent twice. */
  readonly texts: TextStream;
  /** Per-request timeout, seconds. */
  readonly timeoutS?: number;
}

export interface LoadResult {
  readonly connections: number;
  readonly textsPerRequest: number;
  readonly durationS: number;
  /** Completed 2xx responses. */
  readonly requests: number;
  readonly requestsPerS: number;
  readonly textsPerS: number;
  /** Latency of 2xx responses, ms, exact (from every response, not autocannon's integer histogram). */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  readonly maxMs: number;
  readonly non2xx: number;
  /** Connection errors and timeouts. */
  readonly errors: number;
  readonly timeouts: number;
  /** True when any request failed: the row must not be trusted. */
  readonly flagged: boolean;
}

/** The q-quantile (0..1) of ascending values, nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

/**
 * One autocannon run against `POST /embed` on 127.0.0.1: `connections` connections for
 * `durationS` seconds, each request carrying `textsPerRequest` texts never sent before.
 * Bounded: autocannon stops at the duration, each request times out, and a watchdog stops the
 * run if it overruns by more than a request timeout.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const timeoutS = options.timeoutS ?? 60;
  const latencies: number[] = [];
  let non2xx = 0;
  const requestOptions: autocannon.Options = {
    url: `http://127.0.0.1:${options.port}/embed`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    connections: options.connections,
    duration: options.durationS,
    timeout: timeoutS,
    // setupRequest runs for every request: each one carries texts never sent before.
    requests: [{ setupRequest: (request) => ({ ...request, body: JSON.stringify({ texts: options.texts.take(options.textsPerRequest) }) }) }],
  };
  let instance!: autocannon.Instance;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(requestOptions, (error: unknown, result: autocannon.Result) => (error ? reject(error) : resolve(result)));
  });
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    else non2xx++;
  });
  const watchdog = setTimeout(() => instance.stop(), (options.durationS + timeoutS + 5) * 1000);
  let result: autocannon.Result;
  try {
    result = await done;
  } finally {
    clearTimeout(watchdog);
  }

  latencies.sort((a, b) => a - b);
  const durationS = result.duration > 0 ? result.duration : options.durationS;
  const requestsPerS = latencies.length / durationS;
  return {
    connections: options.connections,
    textsPerRequest: options.textsPerRequest,
    durationS,
    requests: latencies.length,
    requestsPerS,
    textsPerS: requestsPerS * options.textsPerRequest,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    meanMs: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length),
    maxMs: latencies[latencies.length - 1] ?? NaN,
    non2xx: Math.max(non2xx, result.non2xx),
    errors: result.errors,
    timeouts: result.timeouts,
    flagged: non2xx > 0 || result.non2xx > 0 || result.errors > 0 || result.timeouts > 0 || latencies.length === 0,
  };
}
