import { trace } from '@opentelemetry/api';
import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import type { Logger } from 'winston';
import { ServiceError } from '../errors';
import { dialectFor, toErrorResponse, type LogLevel } from './error-response';
import type { Metrics } from '../metrics';
import { answeredOnSocket } from './client-errors';
import type { Lifecycle } from './lifecycle';
import { logFields, roundMs } from './request-context';

/** The status logged and counted for a request whose caller went away before it was answered (nginx's). */
export const CLIENT_CLOSED_STATUS = 499;

/** Set by a handler that knows better than the status how its response should be logged. */
export const setLogLevel = (res: Request['res'], level: LogLevel): void => {
  if (res) res.locals.logLevel = level;
};

/**
 * One log line and one duration observation per request, with status, trace id and stage timings.
 * Levels: faults at error, expected refusals (4xx, 503) at warn, hang-ups (499) and successes at info.
 */
export function requestLogger(logger: Logger, metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    const traceId = trace.getActiveSpan()?.spanContext().traceId;
    res.once('close', () => {
      const byParser = answeredOnSocket.get(res);
      const status = byParser?.status ?? (res.headersSent ? res.statusCode : CLIENT_CLOSED_STATUS);
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      metrics.requestDuration.observe({ method: req.method, route, status: String(status) }, (performance.now() - started) / 1000);
      const level: LogLevel =
        byParser?.logLevel ??
        (status === CLIENT_CLOSED_STATUS ? 'info' : ((res.locals.logLevel as LogLevel | undefined) ?? (status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info')));
      if (req.path === '/health' && status === 200) return; // probes every few seconds
      logger.log(level, 'request', {
        method: req.method,
        path: req.path,
        status,
        duration_ms: roundMs(performance.now() - started),
        ...(traceId ? { trace_id: traceId } : {}),
        ...logFields(res),
      });
    });
    next();
  };
}

export const hasBody = (req: Request): boolean =>
  req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;

/** The parsed JSON body, or undefined when the request carried none (FastAPI then reports loc ["body"]). */
export const jsonBodyOf = (req: Request): unknown => (hasBody(req) ? (req.body as unknown) : undefined);

/** JSON routes take JSON only: anything else with a body is 415, like FastAPI's JSON body routes. */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  if (hasBody(req) && !req.is('application/json')) {
    next(new ServiceError('unsupported_media_type', `Content-Type must be application/json, got ${req.headers['content-type'] ?? 'none'}`));
    return;
  }
  next();
};

/** While draining for shutdown, ask keep-alive callers to reconnect (to the new task) after this response. */
export function closeConnectionsWhenStopping(lifecycle: Lifecycle): RequestHandler {
  return (_req, res, next) => {
    if (lifecycle.phase === 'stopping') res.set('Connection', 'close');
    next();
  };
}

/**
 * A known path asked with a method it does not serve: 405 with `Allow`, as FastAPI/Starlette
 * answer (OPTIONS included: there is no CORS here). GET routes also answer HEAD.
 */
export function methodNotAllowed(allowed: Readonly<Record<string, readonly string[]>>): RequestHandler {
  return (req, res, next) => {
    const methods = allowed[req.path.replace(/(.)\/+$/, '$1')];
    if (!methods) {
      next();
      return;
    }
    const allow = methods.includes('GET') ? [...methods, 'HEAD'] : [...methods];
    if (allow.includes(req.method)) {
      next();
      return;
    }
    res.set('Allow', allow.join(', '));
    next(new ServiceError('method_not_allowed', 'Method Not Allowed'));
  };
}

export const notFound: RequestHandler = (req, _res, next) => {
  next(new ServiceError('not_found', `no route for ${req.method} ${req.path}`));
};

/** The only place errors become responses; unknown errors are logged with their stack, never sent. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    if (res.headersSent) {
      // Already answered (e.g. 503 at the end of the shutdown grace): nothing to add. Cut only a
      // response that is half written.
      if (!res.writableEnded) res.destroy();
      return;
    }
    const response = toErrorResponse(error, dialectFor(req.path));
    setLogLevel(res, response.logLevel);
    if (response.status === CLIENT_CLOSED_STATUS) return; // nobody to answer: the request logger records the 499
    if (response.serverFault) {
      logger.error('request failed', { method: req.method, path: req.path, error: (error as Error)?.stack ?? String(error) });
      trace.getActiveSpan()?.recordException(error as Error);
    }
    res.status(response.status).set(response.headers).json(response.body);
  };
}
