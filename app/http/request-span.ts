import { propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import type { Request, RequestHandler, Response } from 'express';

/** A request's span, and the context that carries it to the queue (the inference run's span links to it). */
export interface RequestTrace {
  readonly span: Span;
  readonly context: Context;
  /** The span's name when it ends, if a route knows better than `{method} {route}` (the GenAI name). */
  name?: string;
}

/** Probes and scrapes: a trace each would bury the requests. */
const UNTRACED_PATHS = new Set(['/health', '/metrics']);

/** The request's trace, when tracing is on and the path is traced. */
export const requestTrace = (res: Response): RequestTrace | undefined => res.locals.trace as RequestTrace | undefined;

/**
 * One server span per request, by the HTTP semantic conventions, continuing the caller's trace
 * (W3C `traceparent`/`tracestate`, through the propagator the SDK registers): started here, ended
 * when the response closes with its status and route, and named `{method} {route}`, or by the
 * GenAI conventions for an embeddings request (http/embedding-telemetry.ts). The span and its
 * context are kept on the response (`requestTrace`), not in AsyncLocalStorage (see tracing.ts).
 * Query strings carry users' texts (/embed/single?text=...), whatever the parameter is called:
 * `url.query` is replaced whole (the GenAI conventions make input content opt-in; it is never on).
 */
export function traceRequests(tracer: Tracer): RequestHandler {
  return (req, res, next) => {
    if (UNTRACED_PATHS.has(req.path)) return next();
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = tracer.startSpan(req.method, { kind: SpanKind.SERVER, attributes: requestAttributes(req) }, parent);
    const requestTrace: RequestTrace = { span, context: trace.setSpan(parent, span) };
    res.locals.trace = requestTrace;
    res.once('close', () => endRequestSpan(requestTrace, req, res));
    next();
  };
}

function requestAttributes(req: Request): Attributes {
  const { socket } = req;
  return {
    'http.request.method': req.method,
    'url.scheme': 'http',
    'url.path': req.path,
    ...(req.originalUrl.includes('?') ? { 'url.query': 'REDACTED' } : {}),
    'server.address': req.hostname ?? '',
    'server.port': socket.localPort ?? 0,
    'client.address': socket.remoteAddress ?? '',
    'network.protocol.version': req.httpVersion,
    ...(req.headers['user-agent'] ? { 'user_agent.original': req.headers['user-agent'] } : {}),
  };
}

function endRequestSpan({ span, name }: RequestTrace, req: Request, res: Response): void {
  const route = (req.route as { path?: string } | undefined)?.path;
  if (route) span.setAttribute('http.route', route);
  if (res.headersSent) {
    span.setAttribute('http.response.status_code', res.statusCode);
    // Server spans: only 5xx is the server's error (the HTTP conventions).
    if (res.statusCode >= 500) span.setAttributes({ 'error.type': String(res.statusCode) }).setStatus({ code: SpanStatusCode.ERROR });
  } else {
    span.setAttribute('error.type', 'client_closed');
  }
  const named = name ?? (route ? `${req.method} ${route}` : undefined);
  if (named) span.updateName(named);
  span.end();
}
