import type { ErrorKind } from '../errors';
import { ServiceError } from '../errors';

export interface ErrorResponse {
  readonly status: number;
  readonly body: { detail: unknown };
  readonly headers: Readonly<Record<string, string>>;
  /** Server-side faults are logged with their stack; client errors are not. */
  readonly serverFault: boolean;
}

/** The one table from error kind to HTTP status. The README's error table is checked against it. */
export const STATUS_BY_KIND: Readonly<Record<ErrorKind, number>> = {
  validation: 422,
  malformed_json: 400,
  payload_too_large: 413,
  unsupported_media_type: 415,
  not_found: 404,
  overloaded: 503,
  not_ready: 503,
  inference_failed: 500,
};

const RETRY_AFTER_SECONDS: Partial<Record<ErrorKind, string>> = { not_ready: '5', overloaded: '1' };

/** What body-parser (express.json) throws, by its `type` field. */
const BODY_PARSER_KINDS: Readonly<Record<string, ErrorKind>> = {
  'entity.parse.failed': 'malformed_json',
  'entity.too.large': 'payload_too_large',
  'encoding.unsupported': 'unsupported_media_type',
  'charset.unsupported': 'unsupported_media_type',
  'entity.verify.failed': 'malformed_json',
  'request.size.invalid': 'malformed_json',
};

const BODY_PARSER_DETAIL: Partial<Record<ErrorKind, string>> = {
  malformed_json: 'request body is not valid JSON',
  payload_too_large: 'request body is larger than the limit',
  unsupported_media_type: 'unsupported request body encoding or charset',
};

export function toErrorResponse(error: unknown): ErrorResponse {
  const kind = classify(error);
  if (kind === undefined) {
    return { status: 500, body: { detail: 'internal server error' }, headers: {}, serverFault: true };
  }
  const status = STATUS_BY_KIND[kind];
  const retryAfter = RETRY_AFTER_SECONDS[kind];
  const detail =
    error instanceof ServiceError ? (error.issues ?? error.message) : (BODY_PARSER_DETAIL[kind] ?? String(kind));
  return {
    status,
    body: { detail },
    headers: retryAfter ? { 'Retry-After': retryAfter } : {},
    serverFault: status >= 500 && kind !== 'not_ready' && kind !== 'overloaded',
  };
}

function classify(error: unknown): ErrorKind | undefined {
  if (error instanceof ServiceError) return error.kind;
  const type = (error as { type?: unknown } | null)?.type;
  if (typeof type === 'string') return BODY_PARSER_KINDS[type];
  return undefined;
}
