import type { Context } from '@opentelemetry/api';

/** The two lanes of the queue: requests of a few texts (a person waiting) go before bulk work. */
export type Lane = 'interactive' | 'bulk';

/** Why a request was refused before any work was done for it (or, for `expired`, after waiting). */
export type ShedReason = 'admitted_texts' | 'queue_wait' | 'bulk_finish' | 'expired';

/** What admission and the scheduler report, for telemetry.ts (metrics, logs, spans). */
export type SchedulingEvent =
  | { readonly type: 'shed'; readonly reason: ShedReason; readonly lane: Lane }
  | { readonly type: 'abandoned'; readonly texts: number }
  | RunEvent;

/** One inference run, once it has ended. Times are `performance.now()` milliseconds. */
export interface RunEvent {
  readonly type: 'run';
  readonly lane: Lane;
  readonly texts: number;
  readonly realTokens: number;
  readonly paddedTokens: number;
  readonly startedAt: number;
  readonly durationMs: number;
  /** The longest any request in the run waited for its first run. */
  readonly maxQueueWaitMs: number;
  /** The trace context of each request the run served, the one that has waited longest first. */
  readonly requests: readonly Context[];
  readonly error?: unknown;
}

/** Listeners of one kind of event. */
export class Listeners<E> {
  private readonly listeners: Array<(event: E) => void> = [];

  add(listener: (event: E) => void): void {
    this.listeners.push(listener);
  }

  emit(event: E): void {
    for (const listener of this.listeners) listener(event);
  }
}
