import express, { type Express } from 'express';
import type { Logger } from 'winston';
import type { Config } from '../config';
import type { Lifecycle } from './lifecycle';
import { closeConnectionsWhenStopping, errorHandler, notFound, requestLogger } from './middleware';
import { embedRoutes } from './routes/embed';
import { healthRoutes } from './routes/health';

export interface AppDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly lifecycle: Lifecycle;
}

export function createApp({ config, logger, lifecycle }: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  app.use(requestLogger(logger));
  app.use(closeConnectionsWhenStopping(lifecycle));
  app.use(healthRoutes(lifecycle, config.model.name));
  app.use(embedRoutes(config, lifecycle));
  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}
