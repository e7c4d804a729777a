import express, { type Request, type RequestHandler } from 'express';
import type { Config } from '../../config';
import type { Embedder } from '../../embedder';
import { notReady, overloaded } from '../../errors';
import type { Metrics } from '../../metrics';
import type { HttpShedReason } from '../../telemetry';
import { limitBodiesInFlight } from '../body-budget';
import type { Lifecycle } from '../lifecycle';
import { requireJsonBody } from '../middleware';
import { recordTimings, requestAbortSignal, roundMs, traceEmbeddingsRequest } from '../request-context';

/** What the embedding routes share: the embedder (503 until it exists), the body pipeline, one call. */
export interface EmbeddingRunner {
  embedder(): Embedder;
  /** Before the body is read: 415 for non-JSON, 503 at once when saturated or out of body budget, then parse. */
  readonly jsonBody: RequestHandler[];
  run(req: Request, texts: readonly string[]): Promise<{ outcome: Awaited<ReturnType<Embedder['embed']>>; processingMs: number }>;
}

export function createEmbeddingRunner(config: Config, lifecycle: Lifecycle, metrics: Metrics, onShed: (reason: HttpShedReason) => void): EmbeddingRunner {
  const embedder = (): Embedder => {
    const current = lifecycle.embedder;
    if (!current) throw notReady();
    return current;
  };
  const refuseWhenSaturated: RequestHandler = (_req, _res, next) => {
    if (lifecycle.embedder?.saturated()) {
      onShed('saturated');
      next(overloaded('server is at capacity; retry shortly'));
      return;
    }
    next();
  };
  return {
    embedder,
    jsonBody: [
      requireJsonBody,
      refuseWhenSaturated,
      limitBodiesInFlight(config.http.maxInflightBodyBytes, config.http.maxBodyBytes, () => onShed('body_bytes')),
      express.json({ limit: config.http.maxBodyBytes, strict: false, type: 'application/json' }),
    ],
    async run(req, texts) {
      const started = performance.now();
      traceEmbeddingsRequest(config.model.name);
      const outcome = await embedder().embed(texts, requestAbortSignal(req));
      recordTimings(req, texts.length, outcome, metrics);
      return { outcome, processingMs: roundMs(performance.now() - started) };
    },
  };
}
