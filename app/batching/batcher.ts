import { context as otelContext, trace, type Context, type Link } from '@opentelemetry/api';
import { clientClosed, inferenceFailed, overloaded, ServiceError, shuttingDown } from '../errors';
import type { TokenizedText } from '../model';
import { paddedTokens, planBatches, type BatchBudget } from './plan';
import { ThroughputEstimate } from './throughput';

/** What the batcher needs from the model: one inference run over a batch. */
export interface BatchModel {
  embed(batch: readonly TokenizedText[]): Promise<Float32Array[]>;
}

export interface BatcherOptions extends BatchBudget {
  /** Texts admitted and not yet answered; beyond this, new requests are refused as overloaded. */
  readonly maxQueuedTexts: number;
  /**
   * Longest a request may wait for its first run: a request whose expected wait is longer is
   * refused at admission, and one still waiting after this long is refused then.
   */
  readonly maxQueueWaitMs: number;
}

export interface BatchReport {
  readonly size: number;
  readonly realTokens: number;
  readonly paddedTokens: number;
  readonly durationMs: number;
  readonly maxQueueWaitMs: number;
  readonly error?: unknown;
}

/** Why a request was refused before any work was done for it (or, for `expired`, after waiting). */
export type ShedReason = 'queued_texts' | 'queue_wait' | 'expired';

/** Per-request stage timings, reported once by the caller as span attributes, metrics and log fields. */
export interface SubmitResult {
  readonly vectors: Float32Array[];
  /** From enqueueing to the request's first run. */
  readonly queueMs: number;
  /** From the request's first run to its last run's end. */
  readonly inferenceMs: number;
}

/** A place in the queue for a request's texts, taken before tokenising; release it in `finally`. */
export interface AdmissionSlot {
  /** Replaces the estimate of the request's tokens with the real count, once tokenised. */
  settle(tokens: number): void;
  release(): void;
}

/** One request in the queue: its texts share it, its result is assembled by index. */
interface Ticket {
  readonly enqueuedAt: number;
  readonly traceContext: Context;
  readonly vectors: Float32Array[];
  remaining: number;
  startedAt: number | undefined;
  finishedAt: number;
  settled: boolean;
  resolve(): void;
  reject(error: unknown): void;
}

interface Entry {
  readonly ticket: Ticket;
  readonly index: number;
  readonly length: number;
  readonly text: TokenizedText;
}

const tracer = trace.getTracer('embedding-service.batcher');

/**
 * Admission aims at this share of the wait bound, leaving the rest for what the estimate cannot
 * see coming (a slower machine, a neighbour taking CPU), so that requests it admits rarely reach
 * the bound and get refused after waiting.
 */
const ADMISSION_HEADROOM = 0.5;

/**
 * Admits requests (by texts waiting and by expected wait) and merges the texts of concurrent
 * requests into token-budgeted inference runs. One run at a time (the session already uses every
 * core); while it runs, new texts queue, and the next run takes what has gathered. A lone request
 * starts at once: there is no wait timer.
 */
export class Batcher {
  private queue: Entry[] = [];
  private running = false;
  private closed = false;
  private admitted = 0;
  private admittedTokens = 0;
  private idleWaiters: Array<() => void> = [];
  private readonly tickets = new Set<Ticket>();
  private readonly windowSize: number;
  private readonly throughput = new ThroughputEstimate();
  readonly stats = { batches: 0, texts: 0, paddedTokens: 0, realTokens: 0, skippedAborted: 0, failedBatches: 0, expired: 0 };

  constructor(
    private readonly model: BatchModel,
    private readonly options: BatcherOptions,
    private readonly onBatch: (report: BatchReport) => void = () => {},
    private readonly onShed: (reason: ShedReason) => void = () => {},
  ) {
    if (options.maxBatchSize < 1 || options.maxBatchTokens < 1) throw new RangeError('batch budget must be positive');
    // Plan over a few batches' worth of waiting texts, so grouping by length has something to group.
    this.windowSize = options.maxBatchSize * 4;
  }

  get queuedTexts(): number {
    return this.queue.length;
  }

  /** Texts admitted and not yet answered (tokenising, queued or running). */
  get admittedTexts(): number {
    return this.admitted;
  }

  /** How long a request admitted now would wait for its first run: the tokens admitted at the measured cost of a token. */
  expectedWaitMs(): number {
    return this.throughput.msFor(this.admittedTokens);
  }

  /** True when even a one-text request would be refused: the text limit is reached or the wait is too long. */
  saturated(): boolean {
    if (this.admitted === 0) return false;
    return this.admitted >= this.options.maxQueuedTexts || this.expectedWaitMs() > this.admissionTargetMs();
  }

  private admissionTargetMs(): number {
    return this.options.maxQueueWaitMs * ADMISSION_HEADROOM;
  }

  /**
   * Takes a slot for `texts` texts of about `estimatedTokens` tokens or refuses at once, before any
   * work is spent on the request: over `maxQueuedTexts`, or when the work already admitted would
   * keep it waiting longer than `maxQueueWaitMs`. A request on an idle server is always admitted
   * (configuration guarantees that the largest allowed request fits the text limit).
   */
  admit(texts: number, estimatedTokens: number): AdmissionSlot {
    if (this.closed) throw shuttingDown();
    if (this.admitted > 0) {
      if (this.admitted + texts > this.options.maxQueuedTexts) {
        this.onShed('queued_texts');
        throw overloaded(`server is at capacity (${this.admitted} texts admitted); retry shortly`);
      }
      const waitMs = this.expectedWaitMs();
      if (waitMs > this.admissionTargetMs()) {
        this.onShed('queue_wait');
        const retryAfter = Math.min(30, Math.max(1, Math.ceil((waitMs - this.admissionTargetMs()) / 1000)));
        throw overloaded(`server is at capacity (expected wait ${Math.round(waitMs)} ms, limit ${this.options.maxQueueWaitMs} ms); retry shortly`, retryAfter);
      }
    }
    this.admitted += texts;
    let tokens = estimatedTokens;
    this.admittedTokens += tokens;
    let released = false;
    return {
      settle: (actual) => {
        if (released) return;
        this.admittedTokens += actual - tokens;
        tokens = actual;
      },
      release: () => {
        if (released) return;
        released = true;
        this.admitted -= texts;
        this.admittedTokens -= tokens;
      },
    };
  }

  async submit(texts: readonly TokenizedText[], signal?: AbortSignal): Promise<SubmitResult> {
    if (texts.length === 0) return { vectors: [], queueMs: 0, inferenceMs: 0 };
    if (this.closed) throw shuttingDown();
    if (signal?.aborted) throw clientClosed();
    let ticket!: Ticket;
    const done = new Promise<void>((resolve, reject) => {
      ticket = {
        enqueuedAt: performance.now(),
        traceContext: otelContext.active(),
        vectors: new Array<Float32Array>(texts.length),
        remaining: texts.length,
        startedAt: undefined,
        finishedAt: 0,
        settled: false,
        resolve,
        reject,
      };
    });
    const onAbort = () => {
      this.stats.skippedAborted += this.queue.filter((e) => e.ticket === ticket).length;
      this.fail(ticket, clientClosed('caller went away before inference'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    // The wait bound holds by the clock too, not only between runs: during a long or hung run,
    // a request that has not started when the bound is reached is refused then.
    const expiry = setTimeout(() => {
      if (ticket.startedAt === undefined) this.expire(ticket);
    }, this.options.maxQueueWaitMs);
    this.tickets.add(ticket);
    texts.forEach((text, index) => this.queue.push({ ticket, index, length: text.ids.length, text }));
    this.pump();
    try {
      await done;
    } finally {
      clearTimeout(expiry);
      signal?.removeEventListener('abort', onAbort);
    }
    const startedAt = ticket.startedAt ?? ticket.enqueuedAt;
    return { vectors: ticket.vectors, queueMs: startedAt - ticket.enqueuedAt, inferenceMs: ticket.finishedAt - startedAt };
  }

  /** Shutdown: fails every queued and running request with `error` and refuses new ones. */
  cancelAll(error: ServiceError = shuttingDown()): void {
    this.closed = true;
    for (const ticket of [...this.tickets]) this.fail(ticket, error);
  }

  /** Resolves once nothing is queued or running (used by graceful shutdown). */
  whenIdle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private fail(ticket: Ticket, error: unknown): void {
    if (ticket.settled) return;
    ticket.settled = true;
    this.tickets.delete(ticket);
    this.queue = this.queue.filter((entry) => entry.ticket !== ticket);
    ticket.reject(error);
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
        const batches = planBatches(window, this.options);
        let windowTokens = window.reduce((sum, entry) => sum + entry.length, 0);
        const windowTickets = new Set(window.map((entry) => entry.ticket));
        for (const batch of batches) {
          this.refuseLateStarters(windowTokens, windowTickets);
          windowTokens -= batch.reduce((sum, entry) => sum + entry.length, 0);
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

  /**
   * Before each run: a queued request that, at the measured throughput, would start past its wait
   * bound is refused now rather than when the bound is reached (the estimate it was admitted on
   * was too hopeful: the machine slowed down). `tokensAheadOfQueue`: what the current window still
   * holds; requests with texts in it start within it and are not judged here.
   */
  private refuseLateStarters(tokensAheadOfQueue: number, windowTickets: ReadonlySet<Ticket>): void {
    const msPerToken = this.throughput.msPerToken;
    if (msPerToken === 0) return;
    const now = performance.now();
    const seen = new Set<Ticket>(windowTickets);
    const late: Ticket[] = [];
    let tokensAhead = tokensAheadOfQueue;
    for (const entry of this.queue) {
      const { ticket } = entry;
      // A request starts with its first text in the queue: only what is ahead of that counts.
      if (!seen.has(ticket)) {
        seen.add(ticket);
        if (ticket.startedAt === undefined && now + tokensAhead * msPerToken - ticket.enqueuedAt > this.options.maxQueueWaitMs) late.push(ticket);
      }
      tokensAhead += entry.length;
    }
    for (const ticket of late) this.expire(ticket);
  }

  private expire(ticket: Ticket): void {
    if (ticket.settled) return;
    this.stats.expired++;
    this.onShed('expired');
    this.fail(ticket, overloaded(`request could not start within ${this.options.maxQueueWaitMs} ms; retry shortly`));
  }

  /** Drops entries of requests that are over (failed, gone) or that waited too long to start. */
  private keepIfWanted(entry: Entry): boolean {
    const { ticket } = entry;
    if (ticket.settled) return false;
    if (ticket.startedAt === undefined && performance.now() - ticket.enqueuedAt > this.options.maxQueueWaitMs) {
      this.expire(ticket);
      return false;
    }
    return true;
  }

  private async run(batch: Entry[]): Promise<void> {
    if (batch.length === 0) return;
    const startedAt = performance.now();
    const tickets = new Set(batch.map((e) => e.ticket));
    for (const ticket of tickets) ticket.startedAt ??= startedAt;
    const padded = paddedTokens(batch);
    const realTokens = batch.reduce((sum, e) => sum + e.length, 0);
    // One link per request served; a child of the request that has waited longest, not of whichever
    // request's context the drain loop happened to start in.
    const links: Link[] = [...tickets].flatMap((t) => {
      const spanContext = trace.getSpanContext(t.traceContext);
      return spanContext ? [{ context: spanContext }] : [];
    });
    const oldest = [...tickets].reduce((a, b) => (b.enqueuedAt < a.enqueuedAt ? b : a));
    const span = tracer.startSpan(
      'inference',
      { links, attributes: { 'batch.size': batch.length, 'batch.padded_tokens': padded, 'batch.real_tokens': realTokens } },
      oldest.traceContext,
    );
    let error: unknown;
    try {
      const vectors = await this.model.embed(batch.map((e) => e.text));
      if (vectors.length !== batch.length) throw new Error(`model returned ${vectors.length} vectors for ${batch.length} texts`);
      const finishedAt = performance.now();
      batch.forEach((entry, i) => {
        const { ticket } = entry;
        if (ticket.settled) return;
        ticket.vectors[entry.index] = vectors[i] as Float32Array;
        ticket.finishedAt = finishedAt;
        if (--ticket.remaining === 0) {
          ticket.settled = true;
          this.tickets.delete(ticket);
          ticket.resolve();
        }
      });
    } catch (caught) {
      error = caught;
      this.stats.failedBatches++;
      span.recordException(caught as Error);
      const failure = caught instanceof ServiceError ? caught : inferenceFailed();
      for (const ticket of tickets) this.fail(ticket, failure);
    } finally {
      span.end();
    }
    const durationMs = performance.now() - startedAt;
    if (error === undefined) this.throughput.record(realTokens, durationMs);
    this.stats.batches++;
    this.stats.texts += batch.length;
    this.stats.paddedTokens += padded;
    this.stats.realTokens += realTokens;
    this.onBatch({
      size: batch.length,
      realTokens,
      paddedTokens: padded,
      durationMs,
      maxQueueWaitMs: Math.max(...[...tickets].map((t) => (t.startedAt ?? startedAt) - t.enqueuedAt)),
      ...(error === undefined ? {} : { error }),
    });
  }
}
