import type { Context } from '@opentelemetry/api';
import { LRUCache } from 'lru-cache';
import type { Admission } from './batching/admission';
import type { Scheduler } from './batching/scheduler';
import { callerClosed } from './errors';
import type { EmbeddingModel, InferenceHealth, TokenizedText } from './model';

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

/** What the HTTP layer calls: a request's texts in, vectors out in input order. */
export interface Embedder {
  readonly dimension: number;
  /** `signal` aborts when the caller has gone; `traceContext` is the request's, for the inference run's span. */
  embed(texts: readonly string[], signal?: AbortSignal, traceContext?: Context): Promise<EmbedOutcome>;
  /** Whether inference works right now (a worker is running and not failing over and over). */
  health(): InferenceHealth;
  /** True when a request would be refused as overloaded whatever its size: refuse before reading its body. */
  saturated(): boolean;
  /** Shutdown: fails everything admitted with 503 and refuses new work. */
  cancelAll(): void;
}

export interface EmbedderOptions {
  /** Entries of the text → vector LRU cache; 0 turns it off. */
  readonly cacheEntries: number;
}

interface CachedEmbedding {
  readonly vector: Float32Array;
  readonly tokens: number;
}

/** Texts longer than this are not cached: repeats are short (titles, queries), and keys cost memory. */
const MAX_CACHED_TEXT_CHARS = 2048;

/** Tokenising runs on the main thread: hand the event loop back this often, so /health and sheds stay quick. */
const TOKENIZE_SLICE_MS = 5;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Tokens of a text before it is tokenised, for admission: English word pieces run 4-5 characters,
 * so a third of the characters over-estimates them (CJK, one token a character, is under-estimated
 * until tokenising replaces the estimate with the real count).
 */
const estimateTokens = (text: string, maxTokens: number) => Math.min(maxTokens, 2 + Math.ceil(text.length / 3));

/**
 * A request's way through the service: texts seen recently come from the cache and skip the rest;
 * the others take an admission permit (or are refused at once) before any tokenising, are tokenised
 * in slices that leave the event loop free, so their token counts are known to the queue, and are
 * submitted to the scheduler.
 */
export function createEmbedder(model: EmbeddingModel, admission: Admission, scheduler: Scheduler, options: EmbedderOptions): Embedder {
  const cache = options.cacheEntries > 0 ? new LRUCache<string, CachedEmbedding>({ max: options.cacheEntries }) : undefined;

  return {
    dimension: model.dimension,
    health: () => model.health(),
    saturated: () => admission.saturated(),
    cancelAll: () => {
      admission.close();
      scheduler.cancelAll();
    },
    async embed(texts, signal, traceContext) {
      const vectors: Float32Array[] = new Array(texts.length);
      const missing: number[] = [];
      let promptTokens = 0;
      texts.forEach((text, i) => {
        const hit = cache?.get(text);
        if (!hit) {
          missing.push(i);
          return;
        }
        vectors[i] = hit.vector;
        promptTokens += hit.tokens;
      });
      if (missing.length === 0) return { vectors, promptTokens, cacheHits: texts.length, timings: { tokenizeMs: 0, queueMs: 0, inferenceMs: 0 } };

      const permit = admission.admit(
        missing.length,
        missing.reduce((sum, i) => sum + estimateTokens(texts[i] as string, model.maxTokens), 0),
      );
      try {
        const tokenizeStart = performance.now();
        const tokenized: TokenizedText[] = [];
        let sliceStart = tokenizeStart;
        for (const index of missing) {
          if (performance.now() - sliceStart > TOKENIZE_SLICE_MS) {
            await yieldToEventLoop();
            if (signal?.aborted) throw callerClosed();
            sliceStart = performance.now();
          }
          const tokens = model.tokenize(texts[index] as string);
          promptTokens += tokens.ids.length;
          tokenized.push(tokens);
        }
        const tokenizeMs = performance.now() - tokenizeStart;
        permit.settle(tokenized.reduce((sum, t) => sum + t.ids.length, 0));
        const { vectors: computed, queueMs, inferenceMs } = await scheduler.submit(tokenized, permit, signal, traceContext);
        storeResults(computed, tokenized);
        return { vectors, promptTokens, cacheHits: texts.length - missing.length, timings: { tokenizeMs, queueMs, inferenceMs } };
      } finally {
        permit.release();
      }

      function storeResults(computed: Float32Array[], tokenized: TokenizedText[]): void {
        computed.forEach((vector, j) => {
          const index = missing[j] as number;
          vectors[index] = vector;
          const text = texts[index] as string;
          // A copy: the computed vector is a view into its whole batch's buffer.
          if (cache && text.length <= MAX_CACHED_TEXT_CHARS) cache.set(text, { vector: vector.slice(), tokens: (tokenized[j] as TokenizedText).ids.length });
        });
      }
    },
  };
}
