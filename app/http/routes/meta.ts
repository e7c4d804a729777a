import { Router } from 'express';
import type { Metrics } from '../../metrics';

/**
 * What the service says about itself: Prometheus metrics and its OpenAPI document (built once the
 * routes are known, so `openApi` is read when asked).
 */
export function metaRoutes(metrics: Metrics, openApi: () => Record<string, unknown>): Router {
  const router = Router();
  router.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  router.get('/openapi.json', (_req, res) => {
    res.json(openApi());
  });
  return router;
}
