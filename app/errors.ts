/**
 * The errors a request can end in. Each carries what the caller should be told; the HTTP layer maps
 * the kind to a status, a body and a log level in exactly one place (http/error-response.ts).
 */
export type ErrorKind =
  | 'validation'
  | 'malformed_json'
  | 'malformed_request'
  | 'payload_too_large'
  | 'headers_too_large'
  | 'unsupported_media_type'
  | 'expectation_failed'
  | 'request_timeout'
  | 'not_found'
  | 'method_not_allowed'
  | 'client_closed'
  | 'overloaded'
  | 'not_ready'
  | 'inference_failed';

/** One problem with the request, in FastAPI's shape so Python callers parse it unchanged. */
export interface ValidationIssue {
  readonly loc: ReadonlyArray<string | number>;
  readonly msg: string;
  readonly type: string;
}

export class ServiceError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly issues?: readonly ValidationIssue[],
    /** Seconds the caller should wait before retrying (503s), when it differs from the kind's default. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

export const validationError = (issues: readonly ValidationIssue[]) =>
  new ServiceError('validation', issues.map((i) => `${i.loc.join('.')}: ${i.msg}`).join('; '), issues);
export const notReady = (message = 'model is loading') => new ServiceError('not_ready', message);
export const shuttingDown = () => new ServiceError('not_ready', 'server is shutting down; retry on another instance');
export const overloaded = (message: string, retryAfterSeconds?: number) => new ServiceError('overloaded', message, undefined, retryAfterSeconds);
export const inferenceFailed = (message = 'inference failed') => new ServiceError('inference_failed', message);
export const callerClosed = (message = 'the caller closed the connection') => new ServiceError('client_closed', message);
