import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { RequestHandler } from 'express';
import type { Logger } from 'winston';
import { ServiceError, type ErrorKind } from '../errors';
import type { Metrics } from '../metrics';
import { dialectFor, type ErrorResponse } from './error-response';
import { answerOnSocket, sendError } from './error-writer';
import { recordAnswerOnSocket } from './request-log';

/** What Node's HTTP parser reports, as one of our error kinds; undefined: nothing to answer. */
function parserErrorKind(code: string | undefined): ErrorKind | undefined {
  if (code === 'HPE_HEADER_OVERFLOW') return 'headers_too_large';
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'request_timeout';
  if (code?.startsWith('HPE_')) return 'malformed_request';
  return undefined; // ECONNRESET and the like: the caller is gone
}

/**
 * What Node's HTTP server refuses before Express sees a request gets JSON too (Node answers these
 * with empty bodies, or not at all): malformed request lines or headers (400), headers too large
 * (431), a request not received within `requestTimeout` (408), an `Expect` other than
 * 100-continue (417), and CONNECT (405: this is not a proxy). Each connection is then closed for
 * real. The server must be created with `requireHostHeader: false`: `requireHostHeader` below
 * answers a missing Host instead.
 */
export function answerClientErrorsWithJson(server: http.Server, logger: Logger, metrics: Metrics): void {
  const record = (response: ErrorResponse, method: string, fields: Record<string, unknown>) => {
    metrics.requestDuration.observe({ method, route: 'unparsed', status: String(response.status) }, 0);
    logger.log(response.logLevel, 'client error', { status: response.status, ...fields });
  };

  server.on('clientError', (error: NodeJS.ErrnoException & { reason?: string }, socket: Duplex) => {
    const kind = parserErrorKind(error.code);
    const responding = (socket as Duplex & { _httpMessage?: http.ServerResponse })._httpMessage;
    if (kind === undefined || !socket.writable || responding?.headersSent) {
      socket.destroy();
      return;
    }
    const detail = kind === 'request_timeout' ? 'the request was not received in time' : `malformed HTTP request: ${error.reason ?? error.message}`;
    const response = answerOnSocket(socket, new ServiceError(kind, detail));
    // A request already under way (its body broke or stalled) is logged once, by the request logger.
    if (responding) recordAnswerOnSocket(responding, response);
    else record(response, 'unknown', { code: error.code });
  });

  server.on('checkExpectation', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0] as string;
    const response = sendError(res, new ServiceError('expectation_failed', `unsupported Expect header: ${req.headers.expect ?? ''}`), dialectFor(path));
    record(response, req.method ?? 'unknown', { method: req.method, path });
  });

  server.on('connect', (_req: http.IncomingMessage, socket: Duplex) => {
    const response = answerOnSocket(socket, new ServiceError('method_not_allowed', 'CONNECT is not supported: this server is not a proxy'));
    record(response, 'CONNECT', { method: 'CONNECT' });
  });
}

/** HTTP/1.1 requires a Host header (RFC 9112 §3.2): 400 in JSON, where Node's own check answers with an empty body. */
export const requireHostHeader: RequestHandler = (req, res, next) => {
  if (req.headers.host === undefined && req.httpVersionMajor === 1 && req.httpVersionMinor >= 1) {
    res.set('Connection', 'close'); // as Node's own check does: the client is not speaking HTTP/1.1
    next(new ServiceError('malformed_request', 'missing Host header (required by HTTP/1.1)'));
    return;
  }
  next();
};
