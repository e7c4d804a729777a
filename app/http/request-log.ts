import type { RequestHandler, Response } from 'express';
import type { Logger } from 'winston';
import type { Metrics } from '../metrics';
import type { ErrorResponse, LogLevel } from './error-response';
import { requestTrace } from './request-span';

/** The status logged and counted for a request whose caller went away before it was answered (nginx's). */
export const CLIENT_CLOSED_STATUS = 499;

/** Fields gathered while a request is handled, logged once when it ends. Counts and timings only: never a text. */
export interface RequestLogFields {
  texts?: number;
  prompt_tokens?: number;
  cache_hits?: number;
  tokenize_ms?: number;
  queue_ms?: number;
  inference_ms?: number;
}

export function logFields(res: Response): RequestLogFields {
  return (res.locals.logFields ??= {}) as RequestLogFields;
}

/** Set by a handler that knows better than the status how its response should be logged. */
export const setLogLevel = (res: object | undefined, level: LogLevel): void => {
  const locals = (res as { locals?: Record<string, unknown> } | undefined)?.locals;
  if (locals) locals.logLevel = level;
};

/**
 * Requests whose answer was written on the socket, not through their response (e.g. 408 for a
 * body that never finished): their log line reports that answer instead of a hang-up.
 */
const answeredOnSocket = new WeakMap<object, ErrorResponse>();

export function recordAnswerOnSocket(res: object, response: ErrorResponse): void {
  answeredOnSocket.set(res, response);
}

/** Milliseconds to two decimals, as every duration is reported in logs and responses. */
export const roundMs = (ms: number): number => Math.round(ms * 100) / 100;

/**
 * One log line and one duration observation per request, with status, trace id and stage timings.
 * Levels: faults at error, expected refusals (4xx, 503) at warn, hang-ups (499) and successes at info.
 * The path is logged without its query string: query strings carry texts (/embed/single?text=...).
 */
export function requestLogger(logger: Logger, metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    res.once('close', () => {
      const bySocket = answeredOnSocket.get(res);
      const status = bySocket?.status ?? (res.headersSent ? res.statusCode : CLIENT_CLOSED_STATUS);
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      metrics.requestDuration.observe({ method: req.method, route, status: String(status) }, (performance.now() - started) / 1000);
      const level: LogLevel =
        bySocket?.logLevel ??
        (status === CLIENT_CLOSED_STATUS ? 'info' : ((res.locals.logLevel as LogLevel | undefined) ?? (status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info')));
      if (req.path === '/health' && status === 200) return; // probes every few seconds
      const traceId = requestTrace(res)?.span.spanContext().traceId;
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
