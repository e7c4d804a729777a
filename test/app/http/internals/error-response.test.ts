import fs from 'node:fs';
import path from 'node:path';
import { overloaded, ServiceError, validationError, type ErrorKind } from '../../../../app/errors';
import { dialectFor, STATUS_BY_KIND, toErrorResponse } from '../../../../app/http/error-response';
import { REPO_ROOT } from '../../support/paths';

describe('error → HTTP response mapping', () => {
  it.each(Object.entries(STATUS_BY_KIND))('maps %s to %i', (kind, status) => {
    expect(toErrorResponse(new ServiceError(kind as ErrorKind, 'x')).status).toBe(status);
  });

  it('sets Retry-After on not_ready and overloaded only, and lets a refusal say how long', () => {
    expect(toErrorResponse(new ServiceError('not_ready', 'x')).headers).toEqual({ 'Retry-After': '5' });
    expect(toErrorResponse(new ServiceError('overloaded', 'x')).headers).toEqual({ 'Retry-After': '1' });
    expect(toErrorResponse(overloaded('x', 7)).headers).toEqual({ 'Retry-After': '7' });
    expect(toErrorResponse(new ServiceError('validation', 'x')).headers).toEqual({});
  });

  it('logs faults at error, hang-ups at info and every expected refusal at warn', () => {
    const levels = Object.fromEntries(Object.keys(STATUS_BY_KIND).map((kind) => [kind, toErrorResponse(new ServiceError(kind as ErrorKind, 'x')).logLevel]));
    expect(levels).toMatchObject({ inference_failed: 'error', client_closed: 'info', overloaded: 'warn', not_ready: 'warn', validation: 'warn' });
    expect(Object.values(levels).filter((level) => level === 'error')).toHaveLength(1);
  });

  it('sends validation issues as FastAPI detail lists', () => {
    const issues = [{ loc: ['body', 'texts'], msg: 'Field required', type: 'missing' }];
    expect(toErrorResponse(validationError(issues)).body).toEqual({ detail: issues });
  });

  it('speaks OpenAI\'s error shape under /v1, with the field as param and the problem as code', () => {
    expect(dialectFor('/v1/embeddings')).toBe('openai');
    expect(dialectFor('/embed')).toBe('fastapi');
    const issues = [{ loc: ['body', 'input', 3], msg: 'expected a string', type: 'invalid_type' }];
    expect(toErrorResponse(validationError(issues), 'openai').body).toEqual({
      error: { message: 'input.3: expected a string', type: 'invalid_request_error', param: 'input.3', code: 'invalid_type' },
    });
    expect(toErrorResponse(overloaded('busy'), 'openai').body).toEqual({ error: { message: 'busy', type: 'server_error', param: null, code: 'overloaded' } });
    expect(toErrorResponse(new TypeError('internals'), 'openai').body).toEqual({ error: { message: 'internal server error', type: 'server_error', param: null, code: 'internal_error' } });
  });

  it('treats a library\'s own client error as the caller\'s (400), not a fault', () => {
    // Express's router, on a path parameter that is not valid percent-encoding.
    const routerError = Object.assign(new URIError("Failed to decode param '%zz'"), { status: 400 });
    expect(toErrorResponse(routerError)).toMatchObject({ status: 400, body: { detail: 'malformed request' }, logLevel: 'warn', serverFault: false });
    expect(toErrorResponse(Object.assign(new Error('x'), { status: 503 }))).toMatchObject({ status: 500, serverFault: true });
  });

  it('hides unknown errors behind a generic 500 and flags them for logging', () => {
    const response = toErrorResponse(new TypeError('secret internals at /app/dist/x.js:1'));
    expect(response).toMatchObject({ status: 500, body: { detail: 'internal server error' }, serverFault: true, logLevel: 'error' });
  });

  it('matches the errors table of docs/api.md', () => {
    const readme = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'api.md'), 'utf8');
    for (const [kind, status] of Object.entries(STATUS_BY_KIND)) {
      const level = toErrorResponse(new ServiceError(kind as ErrorKind, 'x')).logLevel;
      expect(readme).toMatch(new RegExp(`^\\|\\s*${status}\\s*\\|\\s*\`${kind}\`\\s*\\|[^\\n]*\\|\\s*${level}\\s*\\|$`, 'm'));
    }
  });
});
