import type { ErrorKind, ValidationIssue } from '../errors';
import { ServiceError } from '../errors';

/**
 * Which error body a route family speaks: FastAPI's `{"detail": ...}` (what the Python callers of
 * /embed parse) or OpenAI's `{"error": {...}}` under /v1 (what the OpenAI SDKs and LangChain read).
 */
export type ErrorDialect = 'fastapi' | 'openai';

export const dialectFor = (path: string): ErrorDialect => (path === '/v1' || path.startsWith('/v1/') ? 'openai' : 'fastapi');

export type LogLevel = 'error' | 'warn' | 'info';

export interface OpenAiErrorBody {
  readonly error: { readonly message: string; readonly type: string; readonly param: string | null; readonly code: string };
}

export interface ErrorResponse {
  readonly status: number;
  readonly body: { detail: unknown } | OpenAiErrorBody;
  readonly headers: Readonly<Record<string, string>>;
  /** Faults of the service log at error; expected refusals (4xx, 503) at warn; hang-ups at info. */
  readonly logLevel: LogLevel;
  /** An unexpected error: logged with its stack (the caller gets a generic 500). */
  readonly serverFault: boolean;
}

/** The one table from error kind to HTTP status. The README's error table is checked against it. */
export const STATUS_BY_KIND: Readonly<Record<ErrorKind, number>> = {
  validation: 422,
  malformed_json: 400,
  malformed_request: 400,
  payload_too_large: 413,
  headers_too_large: 431,
  unsupported_media_type: 415,
  expectation_failed: 417,
  request_timeout: 408,
  not_found: 404,
  method_not_allowed: 405,
  client_closed: 499,
  overloaded: 503,
  not_ready: 503,
  inference_failed: 500,
};

const RETRY_AFTER_SECONDS: Partial<Record<ErrorKind, number>> = { not_ready: 5, overloaded: 1 };

/** What body-parser (express.json) and raw-body throw, by their `type` field. */
const BODY_PARSER_KINDS: Readonly<Record<string, ErrorKind>> = {
  'entity.parse.failed': 'malformed_json',
  'entity.verify.failed': 'malformed_json',
  'entity.too.large': 'payload_too_large',
  'encoding.unsupported': 'unsupported_media_type',
  'charset.unsupported': 'unsupported_media_type',
  'request.size.invalid': 'malformed_request',
  'request.aborted': 'client_closed',
};

const DEFAULT_DETAIL: Partial<Record<ErrorKind, string>> = {
  malformed_json: 'request body is not valid JSON',
  malformed_request: 'malformed request',
  payload_too_large: 'request body is larger than the limit',
  unsupported_media_type: 'unsupported request body encoding or charset',
  client_closed: 'the caller closed the connection',
};

/** zlib's and brotli's error codes: a body whose Content-Encoding does not match its bytes. */
const isDecompressionError = (error: unknown): boolean => /^(Z_|ERR__ERROR)/.test(String((error as { code?: unknown } | null)?.code ?? ''));

/** Turns any error into the response the caller gets, in the dialect of the route family. */
export function toErrorResponse(error: unknown, dialect: ErrorDialect = 'fastapi'): ErrorResponse {
  const kind = classify(error);
  if (kind === undefined) {
    const body = dialect === 'openai' ? openAiBody('internal server error', 500, 'internal_error', null) : { detail: 'internal server error' };
    return { status: 500, body, headers: {}, logLevel: 'error', serverFault: true };
  }
  const status = STATUS_BY_KIND[kind];
  const retryAfter = error instanceof ServiceError && error.retryAfterSeconds !== undefined ? error.retryAfterSeconds : RETRY_AFTER_SECONDS[kind];
  const issues = error instanceof ServiceError ? error.issues : undefined;
  const message = isDecompressionError(error)
    ? 'request body could not be decompressed: it does not match its Content-Encoding (corrupt gzip, deflate or br data)'
    : error instanceof ServiceError
      ? error.message
      : (DEFAULT_DETAIL[kind] ?? kind);
  return {
    status,
    body: dialect === 'openai' ? openAiError(kind, status, message, issues) : { detail: issues ?? message },
    headers: retryAfter === undefined ? {} : { 'Retry-After': String(retryAfter) },
    logLevel: kind === 'inference_failed' ? 'error' : kind === 'client_closed' ? 'info' : 'warn',
    serverFault: false,
  };
}

function classify(error: unknown): ErrorKind | undefined {
  if (error instanceof ServiceError) return error.kind;
  if (isDecompressionError(error)) return 'malformed_request';
  const { type, status, expose } = (error ?? {}) as { type?: unknown; status?: unknown; expose?: unknown };
  if (typeof type === 'string' && BODY_PARSER_KINDS[type]) return BODY_PARSER_KINDS[type];
  // Any other client error that body-parser marks as safe to show is still the caller's, not a fault.
  if (typeof status === 'number' && status >= 400 && status < 500 && expose === true) return 'malformed_request';
  return undefined;
}

/** OpenAI's error object: `param` names the offending field, `code` says what was wrong with it. */
function openAiError(kind: ErrorKind, status: number, message: string, issues: readonly ValidationIssue[] | undefined): OpenAiErrorBody {
  const first = issues?.[0];
  if (!first) return openAiBody(message, status, kind, null);
  const param = (issue: ValidationIssue) => issue.loc.slice(issue.loc[0] === 'body' || issue.loc[0] === 'query' ? 1 : 0).join('.') || 'body';
  const text = (issues ?? []).map((issue) => `${param(issue)}: ${issue.msg}`).join('; ');
  return openAiBody(text, status, first.type, param(first));
}

const openAiBody = (message: string, status: number, code: string, param: string | null): OpenAiErrorBody => ({
  error: { message, type: status >= 500 ? 'server_error' : 'invalid_request_error', param, code },
});
