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

/** The one table from error kind to HTTP status. The errors table of docs/api.md is checked against it. */
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

/**
 * The level each kind is logged at: a fault of the service at error, an expected refusal (4xx, 503)
 * at warn, a caller that hung up at info. The docs are checked against it (test/docs).
 */
export const LOG_LEVEL_BY_KIND: Readonly<Record<ErrorKind, LogLevel>> = {
  validation: 'warn',
  malformed_json: 'warn',
  malformed_request: 'warn',
  payload_too_large: 'warn',
  headers_too_large: 'warn',
  unsupported_media_type: 'warn',
  expectation_failed: 'warn',
  request_timeout: 'warn',
  not_found: 'warn',
  method_not_allowed: 'warn',
  client_closed: 'info',
  overloaded: 'warn',
  not_ready: 'warn',
  inference_failed: 'error',
};

const RETRY_AFTER_SECONDS: Partial<Record<ErrorKind, number>> = { not_ready: 5, overloaded: 1 };


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
  const message = error instanceof ServiceError ? error.message : 'malformed request';
  return {
    status,
    body: dialect === 'openai' ? openAiError(kind, status, message, issues) : { detail: issues ?? message },
    headers: retryAfter === undefined ? {} : { 'Retry-After': String(retryAfter) },
    logLevel: LOG_LEVEL_BY_KIND[kind],
    serverFault: false,
  };
}

function classify(error: unknown): ErrorKind | undefined {
  if (error instanceof ServiceError) return error.kind;
  // A library's own client error is the caller's, not a fault: e.g. Express's router refusing a
  // path parameter that is not valid percent-encoding (GET /v1/models/%zz) with status 400.
  const status = (error as { status?: unknown } | null)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) return 'malformed_request';
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
