/**
 * Requests sized by their expected work, so each finishes well within the client's timeout on a
 * 0.5 vCPU task even with several bulk callers queued at the service (measured: docs/clients.md,
 * "Bulk"). The service spends about 0.06 ms of CPU per character of English text there, and a text
 * costs nothing more past its first 256 tokens (about 1,200 characters). 200 characters per second
 * of timeout (2,000 at the default 10 s) is about 0.12 s of work a request. The Python client uses
 * the same two figures (clients/python/embedding_client.py).
 */
export const CHARS_PER_TIMEOUT_SECOND = 200;
export const MAX_CHARS_COUNTED = 1200;

export const defaultMaxBatchChars = (timeoutMs: number): number => Math.round((CHARS_PER_TIMEOUT_SECOND * timeoutMs) / 1000);

/**
 * The requests for `texts`, as lists of their indices: texts of similar length together (the service
 * pads a batch to its longest text, so mixed lengths waste its CPU), at most `maxTexts` texts and
 * about `maxChars` characters each (a longer text goes alone).
 */
export function planRequests(texts: readonly string[], maxTexts: number, maxChars: number): number[][] {
  const byLength = texts.map((_, index) => index).sort((a, b) => (texts[a] as string).length - (texts[b] as string).length || a - b);
  const requests: number[][] = [];
  let current: number[] = [];
  let chars = 0;
  for (const index of byLength) {
    const cost = Math.min((texts[index] as string).length, MAX_CHARS_COUNTED);
    if (current.length > 0 && (current.length >= maxTexts || chars + cost > maxChars)) {
      requests.push(current);
      current = [];
      chars = 0;
    }
    current.push(index);
    chars += cost;
  }
  if (current.length > 0) requests.push(current);
  return requests;
}
