import type http from 'node:http';
import type { Logger } from 'winston';
import type { Scheduler } from './batching/scheduler';
import type { InFlightRequests } from './http/in-flight';
import type { Lifecycle } from './http/lifecycle';
import type { EmbeddingModel } from './model';

export interface StopOutcome {
  /** Inference threads that would not end (stuck in native code): the process must be killed, not exited. */
  readonly stuckThreads: number;
}

/** What the drain stops, in order. */
export interface DrainTargets {
  readonly server: http.Server;
  readonly inFlight: InFlightRequests;
  readonly lifecycle: Lifecycle;
  readonly logger: Logger;
  readonly graceMs: number;
  /** Settles when the model has loaded (or failed to). */
  readonly ready: Promise<void>;
  /** The model and the scheduler, once the model has loaded. */
  loaded(): { readonly model: EmbeddingModel; readonly scheduler: Scheduler } | undefined;
}

/** After the grace period: time for handlers to answer their cancelled requests, then for responses to flush. */
const CANCEL_ANSWER_MS = 250;
const FLUSH_MS = 500;
/** Longest wait for the scheduler's current run to settle once everything is cancelled. */
const SCHEDULER_SETTLE_MS = 250;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * Graceful stop: /health turns 503 "stopping", the server stops taking connections and closes idle
 * ones, and in-flight requests may finish for up to the grace period; then what is left is answered
 * 503 + Retry-After (never a reset), every connection is closed and the model released. Resolves
 * within the grace period plus about two seconds, even with a hung run. Called twice, it drains once.
 */
export function drainOnStop(targets: DrainTargets): () => Promise<StopOutcome> {
  const { server, inFlight, lifecycle, logger, graceMs } = targets;
  let stopping: Promise<StopOutcome> | undefined;
  const drain = async (): Promise<StopOutcome> => {
    lifecycle.markStopping();
    inFlight.closeConnectionsAfterResponse();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    logger.info('draining', { in_flight: inFlight.size, grace_ms: graceMs });
    if (!(await inFlight.whenEmpty(graceMs))) {
      logger.warn('shutdown grace period over; answering unfinished requests with 503', { grace_ms: graceMs, in_flight: inFlight.size });
      lifecycle.embedder?.cancelAll();
      await inFlight.whenEmpty(CANCEL_ANSWER_MS);
      inFlight.answerUnfinished();
      await inFlight.whenEmpty(FLUSH_MS);
    }
    server.closeAllConnections();
    await closed;
    // A model still loading is being built on its worker thread: tearing the thread down in the
    // middle of onnxruntime's session creation aborts the whole process (exit 134, SIGABRT), so
    // let the load finish (within the grace) and release it like a loaded one.
    if (targets.loaded() === undefined) await Promise.race([targets.ready.catch(() => {}), sleep(graceMs)]);
    const loaded = targets.loaded();
    if (!loaded) return { stuckThreads: 0 };
    await Promise.race([loaded.scheduler.whenIdle(), sleep(SCHEDULER_SETTLE_MS)]);
    return loaded.model.close();
  };
  return () => (stopping ??= drain());
}
