import { trace } from '@opentelemetry/api';
import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import type { Logger } from 'winston';
import { ServiceError } from '../errors';
import { toErrorResponse } from './error-response';
import type { Metrics } from '../metrics';
import type { Lifecycle } from './lifecycle';
import { logFields, roundMs } from './request-context';

/** One log line and one duration observation per request, with status, trace id and stage timings. */
export function requestLogger(logger: Logger, metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    const traceId = trace.getActiveSpan()?.spanContext().traceId;
    res.once('close', () => {
      const status = res.headersSent ? res.statusCode : 499;
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      metrics.requestDuration.observe({ method: req.method, route, status: String(status) }, (performance.now() - started) / 1000);
      const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
      if (req.path === '/health' && status === 200 && level === 'info') return; // probes every few seconds
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

export const notFound: RequestHandler = (req, _res, next) => {
  next(new ServiceError('not_found', `no route for ${req.method} ${req.path}`));
};

/** The only place errors become responses; unknown errors are logged with their stack, never sent. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const response = toErrorResponse(error);
    if (response.serverFault) {
      logger.error('request failed', { method: req.method, path: req.path, error: (error as Error)?.stack ?? String(error) });
      trace.getActiveSpan()?.recordException(error as Error);
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(response.status).set(response.headers).json(response.body);
  };
}
