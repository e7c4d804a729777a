const BASE_DELAY_MS = 100;
const MAX_DELAY_MS = 2000;

/** Full-jitter exponential backoff before retry n (1, 2, ...): anywhere in 0..min(2 s, 100 ms·2^(n-1)). */
export function backoffMs(retry: number, random: () => number = Math.random): number {
  return random() * Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (retry - 1));
}

/**
 * The wait before retry n: what the server asked for (plus up to 10%, so callers told the same
 * thing do not come back at the same instant), else the jittered backoff.
 */
export function retryDelayMs(retry: number, retryAfterMs: number | undefined, random: () => number = Math.random): number {
  if (retryAfterMs !== undefined) return retryAfterMs * (1 + 0.1 * random());
  return backoffMs(retry, random);
}
