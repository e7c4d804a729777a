import { overloaded, shuttingDown } from '../errors';
import { Listeners, type Lane, type SchedulingEvent, type ShedReason } from './events';
import { RunCostEstimator, type RunDeadlinePolicy } from './run-cost';

export interface AdmissionOptions {
  /** Texts admitted and not yet answered; beyond this, new requests are refused. */
  readonly maxAdmittedTexts: number;
  /** Longest a request may wait for its first run; admission aims at half of it. */
  readonly maxQueueWaitMs: number;
  /** Requests of at most this many texts are interactive. */
  readonly interactiveMaxTexts: number;
  readonly runDeadline: RunDeadlinePolicy;
}

/**
 * A request's pass: taken before any work is spent on it, carried through the queue (its lane),
 * told what has been served, released in `finally`.
 */
export interface Permit {
  readonly lane: Lane;
  /** Replaces the estimate of the request's tokens with the real count, once tokenised. */
  settle(tokens: number): void;
  /** Tokens of the request that an inference run has just served. */
  served(tokens: number): void;
  release(): void;
}

interface Admitted {
  readonly lane: Lane;
  readonly texts: number;
  tokens: number;
  served: number;
}

/**
 * Admission aims at this share of the wait bound, leaving the rest for what the estimate cannot
 * see coming (a slower machine, a neighbour taking CPU), so that requests it admits rarely reach
 * the bound and get refused after waiting.
 */
const ADMISSION_HEADROOM = 0.5;

/**
 * How much slower than alone a bulk request may expect to finish because of the work admitted
 * with it (other bulk requests share the bulk lane fairly, and queries go first): beyond this the
 * service is overloaded for bulk work. Four bulk requests of one size served at once stay within
 * it (two Celery workers with two requests in flight each); a fifth is admitted only if the
 * others are nearly done or its own work is short. Sharing makes every admitted bulk request
 * slower, so the limit also bounds how late an admitted one finishes.
 */
const BULK_SLOWDOWN_LIMIT = 4;

const remaining = (request: Admitted) => Math.max(0, request.tokens - request.served);
const retryAfterSeconds = (excessMs: number) => Math.min(30, Math.max(1, Math.ceil(excessMs / 1000)));

/**
 * Admission control up front: a request takes a permit or is refused at once (503 overloaded),
 * before it is tokenised. Owns the one estimate of what a run costs (`cost`), which the scheduler
 * feeds and reads too.
 *
 * - Every request: refused when the texts admitted would exceed `maxAdmittedTexts`.
 * - Interactive (at most `interactiveMaxTexts` texts): judged by its wait, the interactive work
 *   admitted ahead of it (bulk work never delays it by more than one run): refused when that is
 *   over half of `maxQueueWaitMs`.
 * - Bulk: judged by when it can finish. The bulk lane is shared fairly, so it finishes after its own
 *   work, the interactive work, and of every other bulk request as much as its own size or that
 *   request's remainder, whichever is smaller; refused when that is over half of `maxQueueWaitMs`
 *   plus `BULK_SLOWDOWN_LIMIT` times its own work. A large request alone is never refused.
 *
 * An idle service admits anything (the configuration guarantees that the largest request fits the text limit).
 */
export class Admission {
  readonly cost: RunCostEstimator;
  private readonly admitted = new Set<Admitted>();
  private admittedTexts = 0;
  private closed = false;
  private readonly listeners = new Listeners<SchedulingEvent>();

  constructor(private readonly options: AdmissionOptions) {
    this.cost = new RunCostEstimator(options.runDeadline);
  }

  /** Texts admitted and not yet answered (tokenising, queued or running). */
  get texts(): number {
    return this.admittedTexts;
  }

  laneFor(texts: number): Lane {
    return texts <= this.options.interactiveMaxTexts ? 'interactive' : 'bulk';
  }

  subscribe(listener: (event: SchedulingEvent) => void): void {
    this.listeners.add(listener);
  }

  /** True when even a one-text request would be refused: the text limit is reached or queries would wait too long. */
  saturated(): boolean {
    if (this.admittedTexts === 0) return false;
    return this.admittedTexts >= this.options.maxAdmittedTexts || this.interactiveWaitMs() > this.targetMs();
  }

  /** Takes a permit for `texts` texts of about `estimatedTokens` tokens, or refuses at once (see the class). */
  admit(texts: number, estimatedTokens: number): Permit {
    if (this.closed) throw shuttingDown();
    const lane = this.laneFor(texts);
    if (this.admittedTexts > 0) this.refuseIfOverloaded(lane, texts, estimatedTokens);
    const request: Admitted = { lane, texts, tokens: estimatedTokens, served: 0 };
    this.admitted.add(request);
    this.admittedTexts += texts;
    let released = false;
    return {
      lane,
      settle: (tokens) => {
        if (!released) request.tokens = tokens;
      },
      served: (tokens) => {
        request.served += tokens;
      },
      release: () => {
        if (released) return;
        released = true;
        this.admitted.delete(request);
        this.admittedTexts -= texts;
      },
    };
  }

  /** Shutdown: every later request is refused as the service stopping. */
  close(): void {
    this.closed = true;
  }

  private refuseIfOverloaded(lane: Lane, texts: number, tokens: number): void {
    if (this.admittedTexts + texts > this.options.maxAdmittedTexts) {
      this.refuse(lane, 'admitted_texts', `server is at capacity (${this.admittedTexts} texts admitted); retry shortly`);
    }
    if (lane === 'interactive') {
      const waitMs = this.interactiveWaitMs();
      if (waitMs > this.targetMs()) {
        this.refuse(lane, 'queue_wait', `server is at capacity (expected wait ${Math.round(waitMs)} ms, limit ${this.options.maxQueueWaitMs} ms); retry shortly`, retryAfterSeconds(waitMs - this.targetMs()));
      }
      return;
    }
    const finishMs = this.bulkFinishMs(tokens);
    const allowedMs = this.targetMs() + BULK_SLOWDOWN_LIMIT * this.cost.expectedMs(tokens);
    if (finishMs > allowedMs) {
      this.refuse(lane, 'bulk_finish', `server is at capacity (this request would finish in about ${Math.round(finishMs)} ms, ${BULK_SLOWDOWN_LIMIT}× its own work at most); retry shortly`, retryAfterSeconds(finishMs - allowedMs));
    }
  }

  private refuse(lane: Lane, reason: ShedReason, message: string, retryAfter?: number): never {
    this.listeners.emit({ type: 'shed', reason, lane });
    throw overloaded(message, retryAfter);
  }

  private targetMs(): number {
    return this.options.maxQueueWaitMs * ADMISSION_HEADROOM;
  }

  private interactiveWaitMs(): number {
    let tokens = 0;
    for (const request of this.admitted) if (request.lane === 'interactive') tokens += remaining(request);
    return this.cost.expectedMs(tokens);
  }

  /** When a new bulk request of `tokens` tokens would finish with the bulk lane shared fairly. */
  private bulkFinishMs(tokens: number): number {
    let ahead = tokens;
    for (const request of this.admitted) ahead += request.lane === 'interactive' ? remaining(request) : Math.min(remaining(request), tokens);
    return this.cost.expectedMs(ahead);
  }
}
