import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { ErrorRequestHandler } from 'express';
import type { Logger } from 'winston';
import { closeAfterWrite } from './connections';
import { dialectFor, toErrorResponse, type ErrorDialect, type ErrorResponse } from './error-response';
import { CLIENT_CLOSED_STATUS, setLogLevel } from './request-log';
import { requestTrace } from './request-span';

/**
 * The one writer of error responses. Every refusal the service answers goes through here: the
 * Express error middleware, shutdown's 503s, and what Node's HTTP parser or core refuses before
 * Express exists (written straight on the socket). Status, headers and body come from
 * toErrorResponse (error-response.ts); this module only puts them on the wire.
 */

const REASON: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Content Too Large',
  417: 'Expectation Failed',
  431: 'Request Header Fields Too Large',
  503: 'Service Unavailable',
};

function wireForm(response: ErrorResponse, extraHeaders: Readonly<Record<string, string>>): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify(response.body);
  return {
    body,
    headers: {
      ...response.headers,
      ...extraHeaders,
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(body)),
    },
  };
}

/**
 * Answers `res` with the error's response in `dialect`, unless headers were already sent (then a
 * half-written response is cut). Returns the response, for the caller's log line.
 */
export function sendError(res: http.ServerResponse, error: unknown, dialect: ErrorDialect, extraHeaders: Readonly<Record<string, string>> = {}): ErrorResponse {
  const response = toErrorResponse(error, dialect);
  setLogLevel(res, response.logLevel);
  if (res.headersSent) {
    if (!res.writableEnded) res.destroy();
    return response;
  }
  const { body, headers } = wireForm(response, extraHeaders);
  res.writeHead(response.status, headers).end(body);
  return response;
}

/**
 * For what never reached a ServerResponse (a request the parser refused, CONNECT): the response as
 * raw HTTP/1.1 bytes, then the connection is closed for real (not left half-open, see connections.ts).
 */
export function answerOnSocket(socket: Duplex, error: unknown, dialect: ErrorDialect = 'fastapi'): ErrorResponse {
  const response = toErrorResponse(error, dialect);
  const { body, headers } = wireForm(response, { Connection: 'close' });
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  closeAfterWrite(socket, `HTTP/1.1 ${response.status} ${REASON[response.status] ?? 'Error'}\r\n${lines.join('\r\n')}\r\n\r\n${body}`);
  return response;
}

/**
 * The Express error middleware: every error a route or middleware passes on becomes a response
 * here, in the dialect `dialectOf` gives the path. Unknown errors are logged with their stack, never sent.
 */
export function errorHandler(logger: Logger, dialectOf: (path: string) => ErrorDialect = dialectFor): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const response = toErrorResponse(error);
    if (response.status === CLIENT_CLOSED_STATUS) {
      setLogLevel(res, response.logLevel); // nobody to answer: the request logger records the 499
      return;
    }
    if (response.serverFault) {
      logger.error('request failed', { method: req.method, path: req.path, error: (error as Error)?.stack ?? String(error) });
      requestTrace(res)?.span.recordException(error as Error);
    }
    sendError(res, error, dialectOf(req.path));
  };
}
