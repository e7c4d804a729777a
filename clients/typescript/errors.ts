/**
 * The service refused the request because of its input (a 4xx such as 422: too many texts, a
 * non-string): the caller's error, never a reason to switch to the local model.
 */
export class EmbeddingRequestError extends Error {
  override name = 'EmbeddingRequestError';
  constructor(
    readonly status: number,
    readonly detail: unknown,
  ) {
    super(`embedding service answered ${status}: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`);
  }
}

/** The service could not be reached or kept failing (after retries), and no local fallback is configured. */
export class EmbeddingServiceUnavailableError extends Error {
  override name = 'EmbeddingServiceUnavailableError';
}

/** An outage seen by one request: connection refused or reset, timeout, 5xx or 429 after retries. */
export class OutageError extends Error {
  override name = 'OutageError';
}
