const BASE_DELAY_MS = 100;
const MAX_DELAY_MS = 2000;

/** Full-jitter exponential backoff before retry n (1, 2, ...): anywhere in 0..min(2 s, 100 ms·2^(n-1)). */
export function backoffMs(retry: number, random: () => number = Math.random): number {
  return random() * Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (retry - 1));
}

/** A Retry-After header (seconds, or an HTTP date) in milliseconds; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The wait before retry n: what the server asked for (plus up to 10%, so callers told the same
 * thing do not come back at the same instant), else the jittered backoff.
 */
export function retryDelayMs(retry: number, retryAfterMs: number | undefined, random: () => number = Math.random): number {
  if (retryAfterMs !== undefined) return retryAfterMs * (1 + 0.1 * random());
  return backoffMs(retry, random);
}
