import { context as otelContext, trace, type Context, type Link } from '@opentelemetry/api';
import { inferenceFailed, overloaded, ServiceError } from '../errors';
import type { TokenizedText } from '../model';
import { paddedTokens, planBatches, type BatchBudget } from './plan';

/** What the batcher needs from the model: one inference run over a batch. */
export interface BatchModel {
  embed(batch: readonly TokenizedText[]): Promise<Float32Array[]>;
}

export interface BatcherOptions extends BatchBudget {
  /** Texts allowed to wait at once; beyond this, new requests are refused as overloaded. */
  readonly maxQueuedTexts: number;
}

export interface BatchReport {
  readonly size: number;
  readonly realTokens: number;
  readonly paddedTokens: number;
  readonly durationMs: number;
  readonly maxQueueWaitMs: number;
  readonly error?: unknown;
}

/** Per-request stage timings, reported once by the caller as span attributes, metrics and log fields. */
export interface SubmitResult {
  readonly vectors: Float32Array[];
  readonly queueMs: number;
  readonly inferenceMs: number;
}

interface Entry {
  readonly length: number;
  readonly text: TokenizedText;
  readonly enqueuedAt: number;
  readonly signal: AbortSignal | undefined;
  readonly traceContext: Context;
  startedAt: number;
  finishedAt: number;
  resolve(vector: Float32Array): void;
  reject(error: unknown): void;
}

const tracer = trace.getTracer('embedding-service.batcher');

export class RequestAbortedError extends Error {
  override name = 'RequestAbortedError';
}

/**
 * Merges the texts of concurrent requests into token-budgeted inference runs. One run at a time
 * (the session already uses every core); while it runs, new texts queue, and the next run takes
 * what has gathered. A lone request starts at once: there is no wait timer.
 */
export class Batcher {
  private readonly queue: Entry[] = [];
  private running = false;
  private idleWaiters: Array<() => void> = [];
  private readonly windowSize: number;
  readonly stats = { batches: 0, texts: 0, paddedTokens: 0, realTokens: 0, skippedAborted: 0, failedBatches: 0 };

  constructor(
    private readonly model: BatchModel,
    private readonly options: BatcherOptions,
    private readonly onBatch: (report: BatchReport) => void = () => {},
  ) {
    if (options.maxBatchSize < 1 || options.maxBatchTokens < 1) throw new RangeError('batch budget must be positive');
    // Plan over a few batches' worth of waiting texts, so grouping by length has something to group.
    this.windowSize = options.maxBatchSize * 4;
  }

  get queuedTexts(): number {
    return this.queue.length;
  }

  async submit(texts: readonly TokenizedText[], signal?: AbortSignal): Promise<SubmitResult> {
    if (texts.length === 0) return { vectors: [], queueMs: 0, inferenceMs: 0 };
    if (this.queue.length + texts.length > this.options.maxQueuedTexts) {
      throw overloaded(`server is at capacity (${this.queue.length} texts waiting); retry shortly`);
    }
    const now = performance.now();
    const traceContext = otelContext.active();
    const entries: Entry[] = [];
    const promises = texts.map(
      (text) =>
        new Promise<Float32Array>((resolve, reject) => {
          entries.push({ length: text.ids.length, text, enqueuedAt: now, signal, traceContext, startedAt: 0, finishedAt: 0, resolve, reject });
        }),
    );
    this.queue.push(...entries);
    this.pump();
    const vectors = await Promise.all(promises);
    const started = Math.min(...entries.map((e) => e.startedAt));
    return {
      vectors,
      queueMs: Math.max(...entries.map((e) => e.startedAt - e.enqueuedAt)),
      inferenceMs: Math.max(...entries.map((e) => e.finishedAt)) - started,
    };
  }

  /** Resolves once nothing is queued or running (used by graceful shutdown). */
  whenIdle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    if (this.running) return;
    this.running = true;
    // Start on the next tick so texts of requests arriving in the same tick share the first run.
    setImmediate(() => void this.drainQueue());
  }

  private async drainQueue(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const window = this.queue.splice(0, this.windowSize).filter((entry) => this.keepIfWanted(entry));
        for (const batch of planBatches(window, this.options)) {
          await this.run(batch.filter((entry) => this.keepIfWanted(entry)));
        }
      }
    } finally {
      this.running = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      waiters.forEach((wake) => wake());
    }
  }

  private keepIfWanted(entry: Entry): boolean {
    if (!entry.signal?.aborted) return true;
    this.stats.skippedAborted++;
    entry.reject(new RequestAbortedError('caller went away before inference'));
    return false;
  }

  private async run(batch: Entry[]): Promise<void> {
    if (batch.length === 0) return;
    const startedAt = performance.now();
    for (const entry of batch) entry.startedAt = startedAt;
    const padded = paddedTokens(batch);
    const realTokens = batch.reduce((sum, e) => sum + e.length, 0);
    // One link per request served (a request's texts share its span).
    const links = new Map<string, Link>();
    for (const entry of batch) {
      const spanContext = trace.getSpanContext(entry.traceContext);
      if (spanContext) links.set(spanContext.spanId, { context: spanContext });
    }
    // A child of the request that has waited longest (linked, like every request it serves), not of
    // whichever request's context the drain loop happened to start in.
    const oldest = batch.reduce((a, b) => (b.enqueuedAt < a.enqueuedAt ? b : a));
    const span = tracer.startSpan(
      'inference',
      { links: [...links.values()], attributes: { 'batch.size': batch.length, 'batch.padded_tokens': padded, 'batch.real_tokens': realTokens } },
      oldest.traceContext,
    );
    let error: unknown;
    try {
      const vectors = await this.model.embed(batch.map((e) => e.text));
      if (vectors.length !== batch.length) throw new Error(`model returned ${vectors.length} vectors for ${batch.length} texts`);
      const finishedAt = performance.now();
      batch.forEach((entry, i) => {
        entry.finishedAt = finishedAt;
        entry.resolve(vectors[i] as Float32Array);
      });
    } catch (caught) {
      error = caught;
      this.stats.failedBatches++;
      span.recordException(caught as Error);
      const failure = caught instanceof ServiceError ? caught : inferenceFailed();
      for (const entry of batch) entry.reject(failure);
    } finally {
      span.end();
    }
    const durationMs = performance.now() - startedAt;
    this.stats.batches++;
    this.stats.texts += batch.length;
    this.stats.paddedTokens += padded;
    this.stats.realTokens += realTokens;
    this.onBatch({
      size: batch.length,
      realTokens,
      paddedTokens: padded,
      durationMs,
      maxQueueWaitMs: Math.max(...batch.map((e) => startedAt - e.enqueuedAt)),
      ...(error === undefined ? {} : { error }),
    });
  }
}
