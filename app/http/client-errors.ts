import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'winston';
import { ServiceError, type ErrorKind } from '../errors';
import type { Metrics } from '../metrics';
import { dialectFor, toErrorResponse, type ErrorResponse } from './error-response';

/** What Node's HTTP parser reports, as one of our error kinds; undefined: nothing to answer. */
function parserErrorKind(code: string | undefined): ErrorKind | undefined {
  if (code === 'HPE_HEADER_OVERFLOW') return 'headers_too_large';
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'request_timeout';
  if (code?.startsWith('HPE_')) return 'malformed_request';
  return undefined; // ECONNRESET and the like: the caller is gone
}

/**
 * Requests whose answer the parser handler wrote on the socket (e.g. 408 for a body that never
 * finished): their request log line reports that answer instead of a hang-up.
 */
export const answeredOnSocket = new WeakMap<http.ServerResponse, ErrorResponse>();

const REASON: Readonly<Record<number, string>> = { 400: 'Bad Request', 408: 'Request Timeout', 417: 'Expectation Failed', 431: 'Request Header Fields Too Large' };

function rawResponse(response: ErrorResponse): string {
  const body = JSON.stringify(response.body);
  const headers = {
    ...response.headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    Connection: 'close',
  };
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  return `HTTP/1.1 ${response.status} ${REASON[response.status] ?? 'Error'}\r\n${lines.join('\r\n')}\r\n\r\n${body}`;
}

/**
 * Requests that never reach Express get JSON too: what the HTTP parser refuses (malformed request
 * lines or headers: 400; headers too large: 431; a request not received within `requestTimeout`:
 * 408) and an `Expect` header other than 100-continue (417). Node's defaults answer these with
 * empty bodies.
 */
export function answerClientErrorsWithJson(server: http.Server, logger: Logger, metrics: Metrics): void {
  const record = (response: ErrorResponse, fields: Record<string, unknown>) => {
    metrics.requestDuration.observe({ method: 'unknown', route: 'unparsed', status: String(response.status) }, 0);
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
    const response = toErrorResponse(new ServiceError(kind, detail));
    // A request already under way (its body broke or stalled) is logged once, by the request logger.
    if (responding) answeredOnSocket.set(responding, response);
    else record(response, { code: error.code });
    socket.end(rawResponse(response));
  });

  server.on('checkExpectation', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0] as string;
    const response = toErrorResponse(new ServiceError('expectation_failed', `unsupported Expect header: ${req.headers.expect ?? ''}`), dialectFor(path));
    record(response, { method: req.method, path });
    const body = JSON.stringify(response.body);
    res
      .writeHead(response.status, { ...response.headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) })
      .end(body);
  });
}
