import { ROOT_CONTEXT, type Context } from '@opentelemetry/api';
import { callerClosed, inferenceFailed, overloaded, ServiceError, shuttingDown } from '../errors';
import type { TokenizedText } from '../model';
import type { Admission, Permit } from './admission';
import { Listeners, type SchedulingEvent } from './events';
import { paddedTokens } from './plan';
import { RequestQueue, type Entry, type QueuedRequest } from './queue';

/** What the scheduler needs from the model: one inference run over a batch, within a deadline. */
export interface InferenceModel {
  embed(batch: readonly TokenizedText[], deadlineMs: number): Promise<Float32Array[]>;
}

export interface SchedulerOptions {
  readonly maxBatchSize: number;
  readonly maxBatchTokens: number;
  /** Longest a request may wait for its first run: one still waiting (or bound to) is refused. */
  readonly maxQueueWaitMs: number;
  /** What a bulk run may last (estimated), so a query that arrives during it waits about this long at most. */
  readonly runTargetMs: number;
}

/** Per-request stage timings, reported once by the caller as span attributes, metrics and log fields. */
export interface SubmitResult {
  readonly vectors: Float32Array[];
  /** From enqueueing to the request's first run. */
  readonly queueMs: number;
  /** From the request's first run to its last run's end. */
  readonly inferenceMs: number;
}

/**
 * The run loop: one inference run at a time (the session already uses every core it may), each
 * taken from the queue as the previous one ends, so the model never idles while texts wait and a
 * query waits for at most the run in progress. A lone request starts at once (on the next tick, so
 * requests arriving together share a run); there is no batching timer. Before each run, requests
 * that could no longer start in time are refused, and a request still waiting when its bound is
 * reached is refused then, even while a run hangs. Reports every run, refusal and hang-up as an event.
 */
export class Scheduler {
  private readonly queue = new RequestQueue();
  private readonly requests = new Set<QueuedRequest>();
  private readonly listeners = new Listeners<SchedulingEvent>();
  private running = false;
  private closed = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly model: InferenceModel,
    private readonly admission: Admission,
    private readonly options: SchedulerOptions,
  ) {
    if (options.maxBatchSize < 1 || options.maxBatchTokens < 1) throw new RangeError('batch budget must be positive');
  }

  /** Texts waiting for a run. */
  get queuedTexts(): number {
    return this.queue.size;
  }

  subscribe(listener: (event: SchedulingEvent) => void): void {
    this.listeners.add(listener);
  }

  /**
   * Queues a request's texts under its permit (which names its lane) and resolves with their
   * vectors, in order. `traceContext`: the request's, which its runs' events carry.
   */
  async submit(texts: readonly TokenizedText[], permit: Permit, signal?: AbortSignal, traceContext: Context = ROOT_CONTEXT): Promise<SubmitResult> {
    if (texts.length === 0) return { vectors: [], queueMs: 0, inferenceMs: 0 };
    if (this.closed) throw shuttingDown();
    if (signal?.aborted) throw callerClosed();
    let request!: QueuedRequest;
    const done = new Promise<void>((resolve, reject) => {
      request = {
        permit,
        lane: permit.lane,
        enqueuedAt: performance.now(),
        traceContext,
        vectors: new Array<Float32Array>(texts.length),
        remaining: texts.length,
        startedAt: undefined,
        finishedAt: 0,
        settled: false,
        resolve,
        reject,
      };
    });
    const onAbort = () => this.fail(request, callerClosed('caller went away before inference'));
    signal?.addEventListener('abort', onAbort, { once: true });
    // The wait bound holds by the clock too, not only between runs: during a long or hung run, a
    // request that has not started when the bound is reached is refused then.
    const expiry = setTimeout(() => {
      if (request.startedAt === undefined) this.expire(request);
    }, this.options.maxQueueWaitMs);
    this.requests.add(request);
    this.queue.push(request, texts);
    this.pump();
    try {
      await done;
    } finally {
      clearTimeout(expiry);
      signal?.removeEventListener('abort', onAbort);
    }
    const startedAt = request.startedAt ?? request.enqueuedAt;
    return { vectors: request.vectors, queueMs: startedAt - request.enqueuedAt, inferenceMs: request.finishedAt - startedAt };
  }

  /** Shutdown: fails every queued and running request with `error` and refuses new ones. */
  cancelAll(error: ServiceError = shuttingDown()): void {
    this.closed = true;
    for (const request of [...this.requests]) this.fail(request, error);
  }

  /** Resolves once nothing is queued or running. */
  whenIdle(): Promise<void> {
    if (!this.running && this.queue.isEmpty) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private fail(request: QueuedRequest, error: unknown): void {
    if (request.settled) return;
    request.settled = true;
    this.requests.delete(request);
    const dropped = this.queue.remove(request);
    if (dropped > 0 && error instanceof ServiceError && error.kind === 'client_closed') this.listeners.emit({ type: 'abandoned', texts: dropped });
    request.reject(error);
  }

  private pump(): void {
    if (this.running) return;
    this.running = true;
    // Start on the next tick so texts of requests arriving in the same tick share the first run.
    setImmediate(() => void this.loop());
  }

  private async loop(): Promise<void> {
    try {
      for (;;) {
        this.refuseLateStarters();
        const run = this.queue.nextRun({
          maxRows: this.options.maxBatchSize,
          maxPaddedTokens: this.options.maxBatchTokens,
          bulkTokens: this.admission.cost.bulkRunTokens(),
        });
        if (run.length === 0) break;
        await this.execute(run);
      }
    } finally {
      this.running = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      waiters.forEach((wake) => wake());
    }
  }

  /**
   * A queued request that, at the measured cost of a token, would start past its wait bound is
   * refused now rather than when the bound is reached (the estimate it was admitted on was too
   * hopeful: the machine slowed down).
   */
  private refuseLateStarters(): void {
    const late = this.queue.lateStarters(performance.now(), this.admission.cost.cautiousMsPerToken, this.options.maxQueueWaitMs, this.admission.cost.bulkRunTokens());
    for (const request of late) this.expire(request);
  }

  private expire(request: QueuedRequest): void {
    if (request.settled) return;
    this.listeners.emit({ type: 'shed', reason: 'expired', lane: request.lane });
    this.fail(request, overloaded(`request could not start within ${this.options.maxQueueWaitMs} ms; retry shortly`));
  }

  private async execute(run: Entry[]): Promise<void> {
    const startedAt = performance.now();
    const served = new Map<QueuedRequest, number>();
    for (const entry of run) served.set(entry.request, (served.get(entry.request) ?? 0) + entry.length);
    for (const request of served.keys()) request.startedAt ??= startedAt;
    const padded = paddedTokens(run);
    let error: unknown;
    try {
      const vectors = await this.model.embed(
        run.map((entry) => entry.text),
        this.admission.cost.deadlineMs(padded),
      );
      if (vectors.length !== run.length) throw new Error(`model returned ${vectors.length} vectors for ${run.length} texts`);
      const finishedAt = performance.now();
      run.forEach((entry, i) => {
        const { request } = entry;
        if (request.settled) return;
        request.vectors[entry.index] = vectors[i] as Float32Array;
        request.finishedAt = finishedAt;
        if (--request.remaining === 0) {
          request.settled = true;
          this.requests.delete(request);
          request.resolve();
        }
      });
      for (const [request, tokens] of served) request.permit.served(tokens);
    } catch (caught) {
      error = caught;
      const failure = caught instanceof ServiceError ? caught : inferenceFailed();
      for (const request of served.keys()) this.fail(request, failure);
    }
    const durationMs = performance.now() - startedAt;
    if (error === undefined) this.admission.cost.record(padded, durationMs);
    const requests = [...served.keys()].sort((a, b) => a.enqueuedAt - b.enqueuedAt);
    this.listeners.emit({
      type: 'run',
      lane: run[0]?.request.lane ?? 'bulk',
      texts: run.length,
      realTokens: run.reduce((sum, entry) => sum + entry.length, 0),
      paddedTokens: padded,
      startedAt,
      durationMs,
      maxQueueWaitMs: Math.max(...requests.map((r) => (r.startedAt ?? startedAt) - r.enqueuedAt)),
      requests: requests.map((r): Context => r.traceContext),
      ...(error === undefined ? {} : { error }),
    });
  }
}
