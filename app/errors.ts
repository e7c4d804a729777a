/**
 * The errors a request can end in. Each carries what the caller should be told; the HTTP layer maps
 * the kind to a status in exactly one place (http/error-response.ts).
 */
export type ErrorKind =
  | 'validation'
  | 'malformed_json'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'not_found'
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
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

export const validationError = (issues: readonly ValidationIssue[]) =>
  new ServiceError('validation', issues.map((i) => `${i.loc.join('.')}: ${i.msg}`).join('; '), issues);
export const notReady = (message = 'model is loading') => new ServiceError('not_ready', message);
export const overloaded = (message: string) => new ServiceError('overloaded', message);
export const inferenceFailed = (message = 'inference failed') => new ServiceError('inference_failed', message);
