import express, { type Express } from 'express';
import type { Logger } from 'winston';
import type { Config } from '../config';
import type { Metrics } from '../metrics';
import type { HttpShedReason } from '../telemetry';
import type { InFlightRequests } from './in-flight';
import type { Lifecycle } from './lifecycle';
import { closeConnectionsWhenStopping, errorHandler, methodNotAllowed, notFound, requestLogger } from './middleware';
import { buildOpenApiDocument } from './openapi';
import { embedRoutes } from './routes/embed';
import { createEmbeddingRunner } from './routes/embedding-runner';
import { healthRoutes } from './routes/health';
import { openAiRoutes } from './routes/openai';
import { ROUTE_METHODS } from './routes/paths';

export interface AppDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly lifecycle: Lifecycle;
  readonly metrics: Metrics;
  readonly inFlight: InFlightRequests;
  /** Counts a 503 `overloaded` the HTTP layer gave before admission (telemetry.ts). */
  readonly onShed: (reason: HttpShedReason) => void;
}

export function createApp({ config, logger, lifecycle, metrics, inFlight, onShed }: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  app.use(requestLogger(logger, metrics));
  app.use(inFlight.track);
  app.use(closeConnectionsWhenStopping(lifecycle));
  app.use(methodNotAllowed(ROUTE_METHODS));
  app.use(healthRoutes(lifecycle, config.model.name));
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  const openApi = buildOpenApiDocument(config);
  app.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });
  const runner = createEmbeddingRunner(config, lifecycle, metrics, onShed);
  app.use(embedRoutes(config, runner));
  app.use(openAiRoutes(config, runner));
  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}
