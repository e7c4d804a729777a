import { Router } from 'express';
import type { Lifecycle } from '../lifecycle';

const STATUS_BY_PHASE = { starting: 'starting', ready: 'ok', stopping: 'stopping' } as const;

/** 200 only when the model is loaded and the process is not shutting down, so ECS and Cloud Map route to ready tasks only. */
export function healthRoutes(lifecycle: Lifecycle, modelName: string): Router {
  const router = Router();
  router.get('/health', (_req, res) => {
    const ready = lifecycle.phase === 'ready';
    if (!ready) res.set('Retry-After', '5');
    res.status(ready ? 200 : 503).json({
      status: STATUS_BY_PHASE[lifecycle.phase],
      model_loaded: lifecycle.service !== undefined,
      model_name: modelName,
    });
  });
  return router;
}
