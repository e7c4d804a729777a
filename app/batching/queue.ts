import type { Context } from '@opentelemetry/api';
import type { TokenizedText } from '../model';
import type { Permit } from './admission';
import type { Lane } from './events';
import { planBatches } from './plan';

/** One request in the queue: its texts share it, its result is assembled by index. */
export interface QueuedRequest {
  readonly permit: Permit;
  readonly lane: Lane;
  readonly enqueuedAt: number;
  readonly traceContext: Context;
  readonly vectors: Float32Array[];
  /** Texts not embedded yet. */
  remaining: number;
  startedAt: number | undefined;
  finishedAt: number;
  settled: boolean;
  resolve(): void;
  reject(error: unknown): void;
}

/** One text of a request, waiting for a run. */
export interface Entry {
  readonly request: QueuedRequest;
  readonly index: number;
  readonly length: number;
  readonly text: TokenizedText;
}

/** Limits on the next run. */
export interface RunBudget {
  readonly maxRows: number;
  /** Rows × longest row. */
  readonly maxPaddedTokens: number;
  /** Padded tokens a bulk run may hold to stay within its time target; undefined before any run was measured (a bulk run then holds one text). */
  readonly bulkTokens: number | undefined;
}

/** A bulk request's texts not yet run, shortest first, and how much of the lane it has had (fair queuing, in tokens). */
interface BulkFlow {
  readonly pending: Entry[];
  tag: number;
}

/** How many waiting texts the interactive planner looks over: a few runs' worth, so grouping by length has something to group. */
const WINDOW_RUNS = 4;

/**
 * The waiting texts in two lanes, and which of them the next run takes.
 *
 * - Interactive requests (queries) queue first come, first served, and every run takes from them
 *   while any wait: the batch that holds the oldest waiting text, planned over a window of the
 *   oldest texts (sorted by length, cut within the row and padded-token budget; see plan.ts).
 * - Bulk requests share what is left fairly by tokens (start-time fair queuing): each request keeps
 *   a tag, the tokens it has been served; a run takes texts, shortest first, from the request with
 *   the smallest tag, until the run's time target (in tokens, from the run-cost estimate), rows or
 *   padded tokens are reached. A request that joins starts level with the least-served one, so two
 *   bulk callers get half the lane each, whatever their request sizes.
 */
export class RequestQueue {
  private interactive: Entry[] = [];
  private readonly bulk = new Map<QueuedRequest, BulkFlow>();
  /** The bulk lane's virtual time: the smallest tag of the requests in it (new requests start there). */
  private virtualTime = 0;

  /** Texts waiting for a run. */
  get size(): number {
    let size = this.interactive.length;
    for (const flow of this.bulk.values()) size += flow.pending.length;
    return size;
  }

  get isEmpty(): boolean {
    return this.interactive.length === 0 && this.bulk.size === 0;
  }

  push(request: QueuedRequest, texts: readonly TokenizedText[]): void {
    const entries = texts.map((text, index) => ({ request, index, length: text.ids.length, text }));
    if (request.lane === 'interactive') {
      this.interactive.push(...entries);
      return;
    }
    entries.sort((a, b) => a.length - b.length);
    this.bulk.set(request, { pending: entries, tag: this.virtualTime });
  }

  /** Takes a request's waiting texts out of the queue (it failed, its caller left); returns how many there were. */
  remove(request: QueuedRequest): number {
    if (request.lane === 'bulk') {
      const dropped = this.bulk.get(request)?.pending.length ?? 0;
      this.bulk.delete(request);
      this.advanceVirtualTime();
      return dropped;
    }
    const before = this.interactive.length;
    this.interactive = this.interactive.filter((entry) => entry.request !== request);
    return before - this.interactive.length;
  }

  /** The texts of the next run, interactive first; empty when nothing waits. */
  nextRun(budget: RunBudget): Entry[] {
    return this.interactive.length > 0 ? this.nextInteractiveRun(budget) : this.nextBulkRun(budget);
  }

  /**
   * Requests that have not started and can no longer start within `maxWaitMs` of being queued: the
   * bound has passed, or the interactive work ahead of them, at `msPerToken`, would take them past it.
   */
  lateStarters(now: number, msPerToken: number | undefined, maxWaitMs: number): QueuedRequest[] {
    const late = new Set<QueuedRequest>();
    const startsLate = (request: QueuedRequest, tokensAhead: number) =>
      request.startedAt === undefined && now + tokensAhead * (msPerToken ?? 0) - request.enqueuedAt > maxWaitMs;
    let interactiveTokens = 0;
    for (const entry of this.interactive) {
      if (startsLate(entry.request, interactiveTokens)) late.add(entry.request);
      interactiveTokens += entry.length;
    }
    // Bulk requests start within a run of the interactive work, whatever the bulk work ahead (fair queuing).
    for (const request of this.bulk.keys()) if (startsLate(request, interactiveTokens)) late.add(request);
    return [...late];
  }

  private nextInteractiveRun(budget: RunBudget): Entry[] {
    const window = this.interactive.slice(0, budget.maxRows * WINDOW_RUNS);
    const oldest = window[0];
    const batches = planBatches(window, { maxBatchSize: budget.maxRows, maxBatchTokens: budget.maxPaddedTokens });
    const run = batches.find((batch) => batch.includes(oldest as Entry)) ?? [];
    const taken = new Set(run);
    this.interactive = this.interactive.filter((entry) => !taken.has(entry));
    return run;
  }

  private nextBulkRun(budget: RunBudget): Entry[] {
    const run: Entry[] = [];
    const maxPadded = Math.min(budget.maxPaddedTokens, budget.bulkTokens ?? 0);
    let longest = 0;
    for (;;) {
      const flow = this.leastServed();
      const next = flow?.pending[0];
      if (!flow || !next) break;
      const rows = run.length + 1;
      const widest = Math.max(longest, next.length);
      if (run.length > 0 && (rows > budget.maxRows || rows * widest > maxPadded)) break;
      run.push(next);
      flow.pending.shift();
      flow.tag += next.length;
      longest = widest;
      if (flow.pending.length === 0) this.bulk.delete(next.request);
      if (budget.bulkTokens === undefined) break;
    }
    this.advanceVirtualTime();
    return run;
  }

  private leastServed(): BulkFlow | undefined {
    let least: BulkFlow | undefined;
    for (const flow of this.bulk.values()) if (!least || flow.tag < least.tag) least = flow;
    return least;
  }

  private advanceVirtualTime(): void {
    const least = this.leastServed();
    if (least) this.virtualTime = least.tag;
  }
}
