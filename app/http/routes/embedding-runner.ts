import express, { type Request, type RequestHandler } from 'express';
import type { Config } from '../../config';
import type { EmbeddingService } from '../../embedding-service';
import { notReady, overloaded } from '../../errors';
import type { Metrics } from '../../metrics';
import { limitBodiesInFlight } from '../body-budget';
import type { Lifecycle } from '../lifecycle';
import { requireJsonBody } from '../middleware';
import { recordTimings, requestAbortSignal, roundMs, traceEmbeddingsRequest } from '../request-context';

/** What the embedding routes share: the service (503 until it exists), the body pipeline, one call. */
export interface EmbeddingRunner {
  service(): EmbeddingService;
  /** Before the body is read: 415 for non-JSON, 503 at once when saturated or out of body budget, then parse. */
  readonly jsonBody: RequestHandler[];
  run(req: Request, texts: readonly string[]): Promise<{ outcome: Awaited<ReturnType<EmbeddingService['embed']>>; processingMs: number }>;
}

export function createEmbeddingRunner(config: Config, lifecycle: Lifecycle, metrics: Metrics): EmbeddingRunner {
  const service = (): EmbeddingService => {
    const current = lifecycle.service;
    if (!current) throw notReady();
    return current;
  };
  const refuseWhenSaturated: RequestHandler = (_req, _res, next) => {
    if (lifecycle.service?.saturated()) {
      metrics.shedRequests.inc({ reason: 'saturated' });
      next(overloaded('server is at capacity; retry shortly'));
      return;
    }
    next();
  };
  return {
    service,
    jsonBody: [
      requireJsonBody,
      refuseWhenSaturated,
      limitBodiesInFlight(config.limits.maxInflightBodyBytes, config.limits.maxBodyBytes, () => metrics.shedRequests.inc({ reason: 'body_bytes' })),
      express.json({ limit: config.limits.maxBodyBytes, strict: false, type: 'application/json' }),
    ],
    async run(req, texts) {
      const started = performance.now();
      traceEmbeddingsRequest(config.model.name);
      const outcome = await service().embed(texts, requestAbortSignal(req));
      recordTimings(req, texts.length, outcome, metrics);
      return { outcome, processingMs: roundMs(performance.now() - started) };
    },
  };
}
