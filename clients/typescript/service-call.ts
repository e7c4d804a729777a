import { context, propagation } from '@opentelemetry/api';
import { retryDelayMs } from './backoff';
import { EmbeddingRequestError, OutageError } from './errors';
import { parseRetryAfter } from './service-code';

export interface ServiceCallOptions {
  /** Budget for the call, retries and waits included. */
  readonly timeoutMs: number;
  readonly maxRetries: number;
  /** Checked before each retry: stop early (e.g. another call has already switched to the local model). */
  readonly giveUp: () => boolean;
  /** Called when the service answers "busy, come back later" (a Retry-After), before the wait. */
  readonly onBusy?: () => void;
}

type Attempt = { readonly vectors: Float32Array[] } | { readonly retry: string; readonly retryAfterMs?: number };

/** Statuses worth another try: the request was fine, the service was not (busy, starting, stopping, failing). */
const isRetryableStatus = (status: number) => status === 408 || status === 429 || status >= 500;

/**
 * POST /embed for one chunk of texts. Connection errors, timeouts, 408, 429 and 5xx are retried with
 * jittered backoff (or after the server's Retry-After) while the budget lasts, then reported as an
 * OutageError; any other 4xx is the caller's input and is thrown as EmbeddingRequestError at once.
 * An answer that says when to come back (Retry-After: the service is starting or busy, not gone) is
 * waited for as long as the budget allows; other failures are retried `maxRetries` times.
 */
export async function requestEmbeddings(baseUrl: string, texts: readonly string[], options: ServiceCallOptions): Promise<Float32Array[]> {
  const deadline = Date.now() + options.timeoutMs;
  const body = JSON.stringify({ texts });
  let failures = 0;
  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new OutageError(`no answer within ${options.timeoutMs} ms`);
    const attempt = await postOnce(`${baseUrl}/embed`, body, texts.length, remaining);
    if ('vectors' in attempt) return attempt.vectors;
    if (attempt.retryAfterMs === undefined) failures++;
    else options.onBusy?.();
    const delay = retryDelayMs(Math.max(failures, 1), attempt.retryAfterMs);
    // Out of retries, out of time (a wait that ends past the deadline is no use), or no longer needed.
    if (failures > options.maxRetries || Date.now() + delay >= deadline || options.giveUp()) throw new OutageError(attempt.retry);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/** True when GET /health answers 200 within the time given (the service is up and its model loaded). */
export async function serviceIsReady(baseUrl: string, timeoutMs: number): Promise<boolean> {
  try {
    const response = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

async function postOnce(url: string, body: string, expected: number, timeoutMs: number): Promise<Attempt> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  propagation.inject(context.active(), headers); // traceparent/tracestate when the caller runs an OpenTelemetry SDK
  let status: number;
  let text: string;
  let retryAfter: string | null;
  try {
    const response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
    status = response.status;
    retryAfter = response.headers.get('retry-after');
    text = await response.text();
  } catch (error) {
    return { retry: describeFailure(error) };
  }
  if (status === 200) return { vectors: parseVectors(text, expected) };
  if (isRetryableStatus(status)) return { retry: `HTTP ${status}: ${detailOf(text)}`, retryAfterMs: parseRetryAfter(retryAfter) };
  throw new EmbeddingRequestError(status, detailOf(text));
}

function parseVectors(text: string, expected: number): Float32Array[] {
  let embeddings: unknown;
  try {
    embeddings = (JSON.parse(text) as { embeddings?: unknown }).embeddings;
  } catch {
    throw new OutageError('the service answered 200 with a body that is not JSON');
  }
  if (!Array.isArray(embeddings) || embeddings.length !== expected) {
    throw new OutageError(`the service answered 200 without ${expected} embeddings`);
  }
  return embeddings.map((vector) => Float32Array.from(vector as number[]));
}

/** The error's `detail` (FastAPI's shape) or OpenAI's `error.message`, else the body itself. */
function detailOf(text: string): unknown {
  try {
    const parsed = JSON.parse(text) as { detail?: unknown; error?: { message?: unknown } };
    return parsed.detail ?? parsed.error?.message ?? parsed;
  } catch {
    return text.slice(0, 200);
  }
}

function describeFailure(error: unknown): string {
  if ((error as { name?: string })?.name === 'TimeoutError') return 'timed out'; // a DOMException: not always instanceof Error
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
