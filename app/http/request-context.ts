import { trace } from '@opentelemetry/api';
import type { Request, Response } from 'express';
import type { EmbedOutcome } from '../embedding-service';
import type { Metrics } from '../metrics';

/** Fields gathered while a request is handled, logged once when it ends. */
export interface RequestLogFields {
  texts?: number;
  prompt_tokens?: number;
  cache_hits?: number;
  tokenize_ms?: number;
  queue_ms?: number;
  inference_ms?: number;
}

export function logFields(res: Response): RequestLogFields {
  return (res.locals.logFields ??= {}) as RequestLogFields;
}

/** Aborts when the caller disconnects before the response is sent, so queued work for it is skipped. */
export function requestAbortSignal(req: Request): AbortSignal {
  const res = req.res as Response;
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** Stage timings come out once: on the request's span, in its log line and as metrics. */
export function recordTimings(req: Request, texts: number, outcome: EmbedOutcome, metrics: Metrics): void {
  const { tokenizeMs, queueMs, inferenceMs } = outcome.timings;
  const fields = logFields(req.res as Response);
  Object.assign(fields, {
    texts,
    prompt_tokens: outcome.promptTokens,
    cache_hits: outcome.cacheHits,
    tokenize_ms: roundMs(tokenizeMs),
    queue_ms: roundMs(queueMs),
    inference_ms: roundMs(inferenceMs),
  });
  trace.getActiveSpan()?.setAttributes({
    'embedding.texts': texts,
    'embedding.prompt_tokens': outcome.promptTokens,
    'embedding.tokenize_ms': tokenizeMs,
    'embedding.queue_ms': queueMs,
    'embedding.inference_ms': inferenceMs,
    'embedding.cache_hits': outcome.cacheHits,
  });
  metrics.texts.inc(texts);
  metrics.promptTokens.inc(outcome.promptTokens);
  metrics.cacheHits.inc(outcome.cacheHits);
  metrics.cacheMisses.inc(texts - outcome.cacheHits);
  metrics.tokenizeDuration.observe(tokenizeMs / 1000);
  if (outcome.cacheHits < texts) metrics.queueDuration.observe(queueMs / 1000);
}

/** Milliseconds to two decimals, as every duration is reported in logs and responses. */
export const roundMs = (ms: number): number => Math.round(ms * 100) / 100;
