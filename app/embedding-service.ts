import { LRUCache } from 'lru-cache';
import type { Batcher } from './batching/batcher';
import type { EmbeddingModel, TokenizedText } from './model';

export interface StageTimings {
  readonly tokenizeMs: number;
  readonly queueMs: number;
  readonly inferenceMs: number;
}

export interface EmbedOutcome {
  readonly vectors: Float32Array[];
  /** Tokens the model saw, special tokens included, after truncation (OpenAI's `usage`). */
  readonly promptTokens: number;
  readonly cacheHits: number;
  readonly timings: StageTimings;
}

/** What the HTTP layer calls: texts in, vectors out in input order. */
export interface EmbeddingService {
  readonly dimension: number;
  embed(texts: readonly string[], signal?: AbortSignal): Promise<EmbedOutcome>;
}

export interface EmbeddingServiceOptions {
  /** Entries of the text → vector LRU cache; 0 turns it off. */
  readonly cacheEntries: number;
}

interface CachedEmbedding {
  readonly vector: Float32Array;
  readonly tokens: number;
}

/** Texts longer than this are not cached: repeats are short (titles, queries), and keys cost memory. */
const MAX_CACHED_TEXT_CHARS = 2048;

/**
 * Tokenises before enqueueing, so token counts are known to the batch budget up front; texts seen
 * recently come from the cache and skip the queue entirely.
 */
export function createEmbeddingService(model: EmbeddingModel, batcher: Batcher, options: EmbeddingServiceOptions): EmbeddingService {
  const cache = options.cacheEntries > 0 ? new LRUCache<string, CachedEmbedding>({ max: options.cacheEntries }) : undefined;

  return {
    dimension: model.dimension,
    async embed(texts, signal) {
      const tokenizeStart = performance.now();
      const vectors: Float32Array[] = new Array(texts.length);
      const missing: number[] = [];
      const tokenized: TokenizedText[] = [];
      let promptTokens = 0;
      texts.forEach((text, i) => {
        const hit = cache?.get(text);
        if (hit) {
          vectors[i] = hit.vector;
          promptTokens += hit.tokens;
          return;
        }
        const tokens = model.tokenize(text);
        promptTokens += tokens.ids.length;
        missing.push(i);
        tokenized.push(tokens);
      });
      const tokenizeMs = performance.now() - tokenizeStart;

      const { vectors: computed, queueMs, inferenceMs } = await batcher.submit(tokenized, signal);
      computed.forEach((vector, j) => {
        const index = missing[j] as number;
        vectors[index] = vector;
        const text = texts[index] as string;
        // A copy: the computed vector is a view into its whole batch's buffer.
        if (cache && text.length <= MAX_CACHED_TEXT_CHARS) cache.set(text, { vector: vector.slice(), tokens: (tokenized[j] as TokenizedText).ids.length });
      });
      return { vectors, promptTokens, cacheHits: texts.length - missing.length, timings: { tokenizeMs, queueMs, inferenceMs } };
    },
  };
}
