import type { Batcher } from './batching/batcher';
import type { EmbeddingModel } from './model';

export interface StageTimings {
  readonly tokenizeMs: number;
  readonly queueMs: number;
  readonly inferenceMs: number;
}

export interface EmbedOutcome {
  readonly vectors: Float32Array[];
  /** Tokens the model saw, special tokens included, after truncation (OpenAI's `usage`). */
  readonly promptTokens: number;
  readonly timings: StageTimings;
}

/** What the HTTP layer calls: texts in, vectors out in input order. */
export interface EmbeddingService {
  readonly dimension: number;
  embed(texts: readonly string[], signal?: AbortSignal): Promise<EmbedOutcome>;
}

/** Tokenises before enqueueing, so token counts are known to the batch budget up front. */
export function createEmbeddingService(model: EmbeddingModel, batcher: Batcher): EmbeddingService {
  return {
    dimension: model.dimension,
    async embed(texts, signal) {
      const tokenizeStart = performance.now();
      const tokenized = texts.map((text) => model.tokenize(text));
      const tokenizeMs = performance.now() - tokenizeStart;
      const promptTokens = tokenized.reduce((sum, t) => sum + t.ids.length, 0);
      const { vectors, queueMs, inferenceMs } = await batcher.submit(tokenized, signal);
      return { vectors, promptTokens, timings: { tokenizeMs, queueMs, inferenceMs } };
    },
  };
}
