import { Router } from 'express';
import { SYNTHETIC_WARNING, type ServedModel } from '../../model-identity';
import type { Lifecycle } from '../lifecycle';
import { setLogLevel } from '../request-log';

/**
 * 200 only when the model is loaded, inference works and the process is not shutting down, so ECS
 * replaces a task whose worker keeps failing and Cloud Map routes to ready tasks only. A 503 says
 * why in `status` (starting, stopping, restarting, failing) and, for the worker, in `reason`.
 * `synthetic_model` says whether the model has random weights (`npm run model:synthetic`).
 */
export function healthRoutes(lifecycle: Lifecycle, model: ServedModel): Router {
  const router = Router();
  router.get('/health', (_req, res) => {
    const worker = lifecycle.phase === 'ready' ? lifecycle.embedder?.health() : undefined;
    const status = lifecycle.phase === 'ready' ? (worker?.state === 'ok' || worker === undefined ? 'ok' : worker.state) : lifecycle.phase;
    if (status !== 'ok') {
      res.set('Retry-After', '5');
      setLogLevel(res, 'warn');
    }
    res.status(status === 'ok' ? 200 : 503).json({
      status,
      model_loaded: lifecycle.embedder !== undefined,
      model_name: model.name,
      synthetic_model: model.synthetic,
      ...(model.synthetic ? { warning: SYNTHETIC_WARNING } : {}),
      ...(worker && worker.state !== 'ok' ? { reason: worker.reason } : {}),
    });
  });
  return router;
}
