import type { Request, Response } from 'express';
import type { EmbedOutcome } from '../embedder';
import type { Metrics } from '../metrics';
import { logFields, roundMs } from './request-log';
import { requestTrace } from './request-span';

/**
 * The OpenTelemetry GenAI semantic conventions for an embeddings operation, on the request's span
 * (the HTTP server span of http/request-span.ts), named `{gen_ai.operation.name}
 * {gen_ai.request.model}`, e.g. `embeddings all-MiniLM-L6-v2`. Set before the texts reach the
 * model, so a request that then fails is still an embeddings span. `gen_ai.provider.name` has no
 * well-known value for a self-hosted model:
 * it names this service, whose own attributes (`embedding.*`) sit beside the conventions'. Input
 * content is opt-in in the conventions and never recorded here: only counts and timings.
 */
export function traceEmbeddingsRequest(res: Response, modelName: string): void {
  const traced = requestTrace(res);
  if (!traced) return;
  traced.name = `embeddings ${modelName}`;
  traced.span.setAttributes({
    'gen_ai.operation.name': 'embeddings',
    'gen_ai.provider.name': 'embedding-service',
    'gen_ai.request.model': modelName,
    'gen_ai.response.model': modelName,
  });
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
  requestTrace(req.res as Response)?.span.setAttributes({
    'gen_ai.usage.input_tokens': outcome.promptTokens,
    'gen_ai.embeddings.dimension.count': outcome.vectors[0]?.length ?? 0,
    'embedding.texts': texts,
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
