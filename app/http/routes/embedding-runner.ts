import type { Request, RequestHandler, Response } from 'express';
import type { Config } from '../../config';
import type { Embedder } from '../../embedder';
import { notReady, overloaded } from '../../errors';
import type { Metrics } from '../../metrics';
import type { ServedModel } from '../../model-identity';
import type { HttpShedReason } from '../../telemetry';
import { BodyBudget } from '../body-budget';
import { recordTimings, traceEmbeddingsRequest } from '../embedding-telemetry';
import { readJsonBody, requireJsonBody } from '../json-body';
import { requestTrace } from '../request-span';
import type { Lifecycle } from '../lifecycle';
import { roundMs } from '../request-log';
import type { JsonList, JsonResponder } from '../responses';

/** What the embedding routes share: the embedder (503 until it exists), the body pipeline, one call, one response writer. */
export interface EmbeddingRunner {
  /** The model the responses name. */
  readonly model: ServedModel;
  embedder(): Embedder;
  /** Before the body is read: 415 for what is not JSON, 503 at once when saturated; then read and parse it. */
  readonly jsonBody: RequestHandler[];
  run(req: Request, texts: readonly string[]): Promise<{ outcome: Awaited<ReturnType<Embedder['embed']>>; processingMs: number }>;
  /** The successful answer, written piece by piece within the response budget and write timeout (responses.ts). */
  respond<T>(res: Response, list: JsonList<T>): void;
}

/** Aborts when the caller disconnects before the response is sent, so queued work for it is skipped. */
function requestAbortSignal(req: Request): AbortSignal {
  const res = req.res as Response;
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

export function createEmbeddingRunner(
  config: Config,
  model: ServedModel,
  lifecycle: Lifecycle,
  metrics: Metrics,
  responder: JsonResponder,
  onShed: (reason: HttpShedReason) => void,
): EmbeddingRunner {
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
    if (responder.saturated()) {
      onShed('response_bytes');
      next(overloaded('too many responses are waiting for their clients to read them; retry shortly'));
      return;
    }
    next();
  };
  const budget = new BodyBudget(config.http.maxInflightBodyBytes, metrics.registry);
  return {
    model,
    embedder,
    jsonBody: [requireJsonBody, refuseWhenSaturated, readJsonBody({ maxBytes: config.http.maxBodyBytes, budget, onShed: () => onShed('body_bytes') })],
    async run(req, texts) {
      const started = performance.now();
      const res = req.res as Response;
      traceEmbeddingsRequest(res, model.name);
      const outcome = await embedder().embed(texts, requestAbortSignal(req), requestTrace(res)?.context);
      recordTimings(req, texts.length, outcome, metrics);
      return { outcome, processingMs: roundMs(performance.now() - started) };
    },
    respond: (res, list) => responder.send(res, list),
  };
}
