import express, { type Express } from 'express';
import type { Logger } from 'winston';
import type { Config } from '../config';
import type { Metrics } from '../metrics';
import type { Lifecycle } from './lifecycle';
import { closeConnectionsWhenStopping, errorHandler, notFound, requestLogger } from './middleware';
import { embedRoutes } from './routes/embed';
import { healthRoutes } from './routes/health';

export interface AppDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly lifecycle: Lifecycle;
  readonly metrics: Metrics;
}

export function createApp({ config, logger, lifecycle, metrics }: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  app.use(requestLogger(logger, metrics));
  app.use(closeConnectionsWhenStopping(lifecycle));
  app.use(healthRoutes(lifecycle, config.model.name));
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.use(embedRoutes(config, lifecycle, metrics));
  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}
