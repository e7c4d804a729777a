import fs from 'node:fs';
import path from 'node:path';
import { ServiceError, validationError, type ErrorKind } from '../../../app/errors';
import { STATUS_BY_KIND, toErrorResponse } from '../../../app/http/error-response';
import { REPO_ROOT } from '../support/paths';

describe('error → HTTP response mapping', () => {
  it.each(Object.entries(STATUS_BY_KIND))('maps %s to %i', (kind, status) => {
    expect(toErrorResponse(new ServiceError(kind as ErrorKind, 'x')).status).toBe(status);
  });

  it('sets Retry-After on not_ready and overloaded only', () => {
    expect(toErrorResponse(new ServiceError('not_ready', 'x')).headers).toEqual({ 'Retry-After': '5' });
    expect(toErrorResponse(new ServiceError('overloaded', 'x')).headers).toEqual({ 'Retry-After': '1' });
    expect(toErrorResponse(new ServiceError('validation', 'x')).headers).toEqual({});
  });

  it('sends validation issues as FastAPI detail lists', () => {
    const issues = [{ loc: ['body', 'texts'], msg: 'Field required', type: 'missing' }];
    expect(toErrorResponse(validationError(issues)).body).toEqual({ detail: issues });
  });

  it.each([
    ['entity.parse.failed', 400],
    ['entity.too.large', 413],
    ['encoding.unsupported', 415],
    ['charset.unsupported', 415],
  ])('maps body-parser %s to %i', (type, status) => {
    expect(toErrorResponse(Object.assign(new Error('x'), { type })).status).toBe(status);
  });

  it('hides unknown errors behind a generic 500 and flags them for logging', () => {
    const response = toErrorResponse(new TypeError('secret internals at /app/dist/x.js:1'));
    expect(response).toMatchObject({ status: 500, body: { detail: 'internal server error' }, serverFault: true });
  });

  it('matches the README error table', () => {
    const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    for (const [kind, status] of Object.entries(STATUS_BY_KIND)) {
      expect(readme).toMatch(new RegExp(`\\|\\s*${status}\\s*\\|\\s*\`${kind}\``));
    }
  });
});
