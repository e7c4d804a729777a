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
  /** What a bulk run lasts: a bulk request's turn in the lane (queue.ts). */
  readonly runTargetMs: number;
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
  /** When it was admitted (`performance.now()`); a bulk request's allowance runs from then. */
  readonly admittedAt: number;
}

/**
 * Admission aims at this share of the wait bound, leaving the rest for what the estimate cannot
 * see coming (a slower machine, a neighbour taking CPU), so that requests it admits rarely reach
 * the bound and get refused after waiting.
 */
const ADMISSION_HEADROOM = 0.5;

/**
 * How much slower than alone a bulk request may be made to finish by the work admitted with it
 * (other bulk requests share the bulk lane fairly, and queries go first), beyond the headroom of
 * half the wait bound: two bulk requests of any size share the lane (two Celery workers), more only
 * while their work is short next to that headroom. Sharing slows every bulk request already in the
 * lane, so a new one is also refused when it would push one of them past its own limit: under a
 * flood, admitted bulk requests finish about as soon as they would have behind a first-come queue.
 */
const BULK_SLOWDOWN_LIMIT = 2;

const remaining = (request: Admitted) => Math.max(0, request.tokens - request.served);
const retryAfterSeconds = (excessMs: number) => Math.min(30, Math.max(1, Math.ceil(excessMs / 1000)));

/**
 * When bulk requests with these remainders would be done, in tokens of work from now, as the bulk
 * lane serves them: in turns of `quantum` tokens, so a request waits for its own remainder and, of
 * every other one, as much as its own remainder (or one turn, if that is more) or that one's,
 * whichever is smaller. `extra` is a newcomer's remainder, added to the others; its own finish is
 * the last one returned.
 */
function finishTokens(remainders: readonly number[], quantum: number, extra: number): number[] {
  const all = [...remainders, extra];
  const sorted = [...all].sort((a, b) => a - b);
  const prefix = [0];
  for (const tokens of sorted) prefix.push((prefix[prefix.length - 1] as number) + tokens);
  // Σ min(r, cap) over every remainder r, itself included.
  const cappedSum = (cap: number) => {
    let below = 0;
    while (below < sorted.length && (sorted[below] as number) < cap) below++;
    return (prefix[below] as number) + cap * (sorted.length - below);
  };
  return all.map((tokens) => cappedSum(Math.max(tokens, quantum)) - Math.max(tokens, quantum) + tokens);
}

/**
 * Admission control up front: a request takes a permit or is refused at once (503 overloaded),
 * before it is tokenised. Owns the one estimate of what a run costs (`cost`), which the scheduler
 * feeds and reads too.
 *
 * - Every request: refused when the texts admitted would exceed `maxAdmittedTexts`.
 * - Interactive (at most `interactiveMaxTexts` texts): judged by its wait, the interactive work
 *   admitted ahead of it (bulk work never delays it by more than one run): refused when that is
 *   over half of `maxQueueWaitMs`.
 * - Bulk: judged by when it would start and when it can finish. It starts after the queries and
 *   a turn of each bulk request ahead of it: refused when that is over half of `maxQueueWaitMs`.
 *   The bulk lane is shared in turns, so it finishes after its own work, the queries', and of every
 *   other bulk request as much as its own size or that request's remainder, whichever is smaller.
 *   It may take half of `maxQueueWaitMs` plus `BULK_SLOWDOWN_LIMIT` times its own work; it is
 *   refused when it would take longer, or would push a bulk request admitted before it past that
 *   request's own allowance. A large request alone is never refused.
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
    this.cost = new RunCostEstimator(options.runDeadline, options.runTargetMs);
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
    const request: Admitted = { lane, texts, tokens: estimatedTokens, served: 0, admittedAt: performance.now() };
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
    const startMs = this.bulkStartMs();
    if (startMs > this.targetMs()) {
      this.refuse(lane, 'queue_wait', `server is at capacity (expected wait ${Math.round(startMs)} ms, limit ${this.options.maxQueueWaitMs} ms); retry shortly`, retryAfterSeconds(startMs - this.targetMs()));
    }
    const lateMs = this.bulkLatenessMs(tokens);
    if (lateMs > 0) {
      this.refuse(lane, 'bulk_finish', `server is at capacity (bulk work admitted would finish about ${Math.round(lateMs)} ms later than allowed); retry shortly`, retryAfterSeconds(lateMs));
    }
  }

  /**
   * How long a bulk request of `tokens` tokens may take from its admission: half the wait bound plus
   * its own work, slowed by sharing at most BULK_SLOWDOWN_LIMIT times. Its own work is valued at the
   * current estimate, so a request admitted before the estimate existed is judged like the others.
   */
  private bulkAllowanceMs(tokens: number): number {
    return this.targetMs() + BULK_SLOWDOWN_LIMIT * this.cost.expectedMs(tokens);
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
    return this.cost.cautiousMs(tokens);
  }

  /** A bulk run's worth of tokens: a bulk request's turn. */
  private quantum(): number {
    return this.cost.bulkRunTokens();
  }

  /** When a new bulk request would start: after the queries and a turn of each bulk request before it. */
  private bulkStartMs(): number {
    const quantum = this.quantum();
    let tokens = 0;
    for (const request of this.admitted) tokens += request.lane === 'interactive' ? remaining(request) : Math.min(remaining(request), quantum);
    return this.cost.expectedMs(tokens);
  }

  /**
   * With a new bulk request of `tokens` tokens admitted, how far past its allowance the latest of
   * the bulk requests (it included) would finish; zero or less when every one is on time. Queries
   * go first, so their work delays every bulk request.
   */
  private bulkLatenessMs(tokens: number): number {
    const now = performance.now();
    const bulk: Admitted[] = [];
    let interactive = 0;
    for (const request of this.admitted) {
      if (request.lane === 'interactive') interactive += remaining(request);
      else bulk.push(request);
    }
    const finish = finishTokens(bulk.map(remaining), this.quantum(), tokens);
    const finishBy = [...bulk.map((request) => request.admittedAt + this.bulkAllowanceMs(request.tokens)), now + this.bulkAllowanceMs(tokens)];
    return Math.max(...finish.map((work, i) => now + this.cost.expectedMs(interactive + work) - (finishBy[i] as number)));
  }
}
