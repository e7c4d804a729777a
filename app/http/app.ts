import { trace } from '@opentelemetry/api';
import express, { type Express } from 'express';
import type { Logger } from 'winston';
import type { Config } from '../config';
import type { Metrics } from '../metrics';
import type { ServedModel } from '../model-identity';
import type { HttpShedReason } from '../telemetry';
import { requireHostHeader } from './client-errors';
import { errorHandler } from './error-writer';
import { closeConnectionsWhenStopping, type InFlightRequests } from './in-flight';
import type { Lifecycle } from './lifecycle';
import { requestLogger } from './request-log';
import { traceRequests } from './request-span';
import { buildOpenApiDocument } from './openapi';
import { createJsonResponder } from './responses';
import { RouteTable, servedRoutes } from './route-table';
import { embedRoutes } from './routes/embed';
import { createEmbeddingRunner } from './routes/embedding-runner';
import { healthRoutes } from './routes/health';
import { metaRoutes } from './routes/meta';
import { openAiRoutes } from './routes/openai';

export interface AppDeps {
  readonly config: Config;
  /** What the routes say they serve (model-identity.ts). */
  readonly model: ServedModel;
  readonly logger: Logger;
  readonly lifecycle: Lifecycle;
  readonly metrics: Metrics;
  readonly inFlight: InFlightRequests;
  /** Counts a 503 `overloaded` the HTTP layer gave before admission (telemetry.ts). */
  readonly onShed: (reason: HttpShedReason) => void;
}

/** The Express app: per-request bookkeeping (a span when tracing is on), the 405 guard, the routers, then 404 and the one error writer. */
export function createApp({ config, model, logger, lifecycle, metrics, inFlight, onShed }: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  const responder = createJsonResponder(
    { maxInflightBytes: config.http.maxInflightResponseBytes, writeTimeoutMs: config.http.responseWriteTimeoutMs },
    metrics.registry,
  );
  const runner = createEmbeddingRunner(config, model, lifecycle, metrics, responder, onShed);
  let openApi: Record<string, unknown> = {};
  const routers = [healthRoutes(lifecycle, model), metaRoutes(metrics, () => openApi), embedRoutes(config, runner), openAiRoutes(config, runner)];
  const table = new RouteTable(servedRoutes(routers));
  openApi = buildOpenApiDocument(config, table.routes, model.name);

  // main.ts starts tracing when an endpoint is configured; then every request gets its span.
  if (config.tracing.otlpEndpoint) app.use(traceRequests(trace.getTracer('embedding-service.http')));
  app.use(requestLogger(logger, metrics));
  app.use(inFlight.track);
  app.use(closeConnectionsWhenStopping(lifecycle));
  app.use(requireHostHeader);
  app.use(table.methodNotAllowed);
  for (const router of routers) app.use(router);
  app.use(table.notFound);
  app.use(errorHandler(logger, table.dialectOf));
  return app;
}
