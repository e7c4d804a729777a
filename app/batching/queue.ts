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
  /** Padded tokens a bulk run (and a bulk request's turn) may hold to stay within its time target. */
  readonly bulkTokens: number;
}

/** A bulk request's texts not yet run, shortest first, and the tokens its current turn may still take. */
interface BulkFlow {
  readonly request: QueuedRequest;
  readonly pending: Entry[];
  credit: number;
}

/** How many waiting texts the interactive planner looks over: a few runs' worth, so grouping by length has something to group. */
const WINDOW_RUNS = 4;

/**
 * The waiting texts in two lanes, and which of them the next run takes.
 *
 * - Interactive requests (queries) queue first come, first served, and every run takes from them
 *   while any wait: the batch that holds the oldest waiting text, planned over a window of the
 *   oldest texts (sorted by length, cut within the row and padded-token budget; see plan.ts).
 * - Bulk requests take turns (deficit round robin): in the order they arrived, each turn may take
 *   a run's worth of tokens (the `quantum`: what fits the run time target at the measured cost),
 *   its shortest texts first, then the request goes to the back of the line. A request smaller than
 *   a turn is served whole in its turn (bulk requests that come in a flood finish one after another,
 *   as from a first-come queue); larger ones alternate a turn at a time, so two bulk callers get half
 *   the lane each whatever their request sizes, and a newcomer starts after one turn of each request
 *   ahead of it, never after their whole backlog. A run is filled from the next requests in line
 *   when the current one has no more texts, until the run's tokens, rows or padded tokens are
 *   reached.
 */
export class RequestQueue {
  private interactive: Entry[] = [];
  /** Bulk requests in the order of their turns; the first is taking its turn. */
  private bulk: BulkFlow[] = [];

  /** Texts waiting for a run. */
  get size(): number {
    let size = this.interactive.length;
    for (const flow of this.bulk) size += flow.pending.length;
    return size;
  }

  get isEmpty(): boolean {
    return this.interactive.length === 0 && this.bulk.length === 0;
  }

  push(request: QueuedRequest, texts: readonly TokenizedText[]): void {
    const entries = texts.map((text, index) => ({ request, index, length: text.ids.length, text }));
    if (request.lane === 'interactive') {
      this.interactive.push(...entries);
      return;
    }
    entries.sort((a, b) => a.length - b.length);
    this.bulk.push({ request, pending: entries, credit: 0 });
  }

  /** Takes a request's waiting texts out of the queue (it failed, its caller left); returns how many there were. */
  remove(request: QueuedRequest): number {
    if (request.lane === 'bulk') {
      const dropped = this.bulk.find((flow) => flow.request === request)?.pending.length ?? 0;
      this.bulk = this.bulk.filter((flow) => flow.request !== request);
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
   * bound has passed, or the work ahead of them at `msPerToken` would take them past it (for a
   * query, the queries before it; for a bulk request, the queries and a turn, `quantum` tokens at
   * most, of each bulk request before it).
   */
  lateStarters(now: number, msPerToken: number | undefined, maxWaitMs: number, quantum = 0): QueuedRequest[] {
    const late = new Set<QueuedRequest>();
    const startsLate = (request: QueuedRequest, tokensAhead: number) =>
      request.startedAt === undefined && now + tokensAhead * (msPerToken ?? 0) - request.enqueuedAt > maxWaitMs;
    let interactiveTokens = 0;
    for (const entry of this.interactive) {
      if (startsLate(entry.request, interactiveTokens)) late.add(entry.request);
      interactiveTokens += entry.length;
    }
    let ahead = interactiveTokens;
    for (const flow of this.bulk) {
      if (startsLate(flow.request, ahead)) late.add(flow.request);
      ahead += Math.min(remainingTokens(flow), quantum);
    }
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
    const quantum = budget.bulkTokens;
    const maxPadded = Math.min(budget.maxPaddedTokens, quantum);
    let longest = 0;
    let full = false;
    while (!full && this.bulk.length > 0) {
      const flow = this.bulk[0] as BulkFlow;
      // A new turn. A text longer than a turn is taken whole; that overdraft is not carried over.
      if (flow.credit <= 0) flow.credit = quantum;
      let taken = 0;
      for (const next of flow.pending) {
        const rows = run.length + 1;
        const widest = Math.max(longest, next.length);
        if (run.length > 0 && (rows > budget.maxRows || rows * widest > maxPadded)) {
          full = true;
          break;
        }
        run.push(next);
        taken++;
        flow.credit -= next.length;
        longest = widest;
        if (flow.credit <= 0) break;
      }
      flow.pending.splice(0, taken);
      if (flow.pending.length === 0) this.bulk.shift();
      else if (flow.credit <= 0) this.bulk.push(this.bulk.shift() as BulkFlow);
    }
    return run;
  }
}

const remainingTokens = (flow: BulkFlow) => flow.pending.reduce((sum, entry) => sum + entry.length, 0);
