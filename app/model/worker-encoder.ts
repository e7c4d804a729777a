import { notReady, shuttingDown } from '../errors';
import { InferenceThread } from './inference-thread';
import type { WorkerInit } from './inference-worker';
import { paddedTokenCount, RunDeadline, type RunDeadlineOptions } from './run-deadline';

export interface SupervisionOptions extends RunDeadlineOptions {
  /** This many failures (exits, crashes, runs past their deadline) within the window report "failing". */
  readonly failureLimit: number;
  readonly failureWindowMs: number;
}

export const DEFAULT_SUPERVISION: SupervisionOptions = {
  timeoutFactor: 10,
  timeoutMinMs: 10_000,
  failureLimit: 3,
  failureWindowMs: 300_000,
};

/** What the health check reports about inference. */
export type WorkerHealth =
  | { readonly state: 'ok' }
  | { readonly state: 'restarting' | 'failing'; readonly reason: string };

export type WorkerEvent =
  | { readonly type: 'started'; readonly replacement: boolean; readonly startMs: number }
  | { readonly type: 'start_failed'; readonly message: string; readonly retryInMs: number }
  | { readonly type: 'failed'; readonly cause: 'exit' | 'timeout'; readonly message: string; readonly inFlight: number }
  | { readonly type: 'stuck'; readonly message: string };

export interface CloseOutcome {
  /** Threads that did not end when terminated (stuck in native code); the process cannot exit normally. */
  readonly stuckThreads: number;
}

/** The session on a worker thread, watched: a dead or hung thread is replaced, and health says so. */
export interface SupervisedEncoder {
  readonly dimension: number;
  encode(batch: ReadonlyArray<ArrayLike<number>>): Promise<Float32Array[]>;
  health(): WorkerHealth;
  subscribe(listener: (event: WorkerEvent) => void): void;
  close(): Promise<CloseOutcome>;
}

/** How long a terminated thread gets to end before it counts as stuck. */
const TERMINATE_WAIT_MS = 1000;
/** How long close() lets the session release itself before terminating the thread (and then waits for that). */
const RELEASE_WAIT_MS = 750;
/** Back-off between attempts to start a replacement that keeps failing to load. */
const RESTART_BACKOFF_MS = [0, 1000, 2000, 5000, 10_000, 30_000];

/**
 * Starts the first worker (resolving once it is ready, rejecting if it cannot load) and keeps one
 * running: when the thread exits or crashes, what it had in flight fails and a replacement starts;
 * a run past its deadline (a multiple of its expected time) gets its thread terminated, fails,
 * and the same happens. Runs that arrive while there is no worker wait for the replacement, up to
 * the deadline floor. Health reports "restarting" while there is no worker and "failing" when
 * failures keep happening or a terminated thread would not end.
 */
export async function startSupervisedEncoder(init: WorkerInit, options: SupervisionOptions = DEFAULT_SUPERVISION): Promise<SupervisedEncoder> {
  const deadline = new RunDeadline(options);
  const listeners: Array<(event: WorkerEvent) => void> = [];
  const emit = (event: WorkerEvent) => listeners.forEach((listener) => listener(event));
  const failures: number[] = [];
  const stuck = new Set<InferenceThread>();
  let closing = false;
  let current: InferenceThread | undefined;
  let lastFailure = '';
  let replacement: Promise<InferenceThread> | undefined;

  const recordFailure = (message: string) => {
    lastFailure = message;
    failures.push(Date.now());
  };
  const recentFailures = () => {
    const since = Date.now() - options.failureWindowMs;
    while (failures.length > 0 && (failures[0] as number) < since) failures.shift();
    return failures.length;
  };

  const launch = async (isReplacement: boolean): Promise<InferenceThread> => {
    const started = performance.now();
    const thread = await InferenceThread.start(init, (ended, error) => onThreadEnd(ended, error));
    emit({ type: 'started', replacement: isReplacement, startMs: Math.round(performance.now() - started) });
    return thread;
  };

  const replace = () => {
    current = undefined;
    if (replacement || closing) return;
    replacement = (async () => {
      for (let attempt = 0; ; attempt++) {
        const delay = RESTART_BACKOFF_MS[Math.min(attempt, RESTART_BACKOFF_MS.length - 1)] as number;
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay).unref());
        if (closing) throw shuttingDown();
        try {
          const thread = await launch(true);
          if (closing) {
            void thread.release(RELEASE_WAIT_MS);
            throw shuttingDown();
          }
          current = thread;
          return thread;
        } catch (error) {
          if (closing) throw error;
          recordFailure(`replacement worker failed to start: ${(error as Error).message}`);
          const next = RESTART_BACKOFF_MS[Math.min(attempt + 1, RESTART_BACKOFF_MS.length - 1)] as number;
          emit({ type: 'start_failed', message: (error as Error).message, retryInMs: next });
        }
      }
    })();
    replacement.then(
      () => (replacement = undefined),
      () => (replacement = undefined),
    );
  };

  const onThreadEnd = (thread: InferenceThread, error: Error) => {
    if (closing) return;
    recordFailure(error.message);
    emit({ type: 'failed', cause: 'exit', message: error.message, inFlight: thread.inFlight });
    if (thread === current) replace();
  };

  const abandon = (thread: InferenceThread, reason: Error) => {
    void thread.terminate(TERMINATE_WAIT_MS, reason).then((ended) => {
      if (ended) return;
      stuck.add(thread);
      emit({ type: 'stuck', message: 'a terminated inference worker has not ended (stuck in native code)' });
      void thread.exited.then(() => stuck.delete(thread));
    });
  };

  /** The running thread, or the replacement being started, waited for up to the deadline floor. */
  const ready = async (): Promise<InferenceThread> => {
    if (closing) throw shuttingDown();
    if (current?.alive) return current;
    if (!replacement) replace();
    const pending = replacement as Promise<InferenceThread>;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(notReady('the inference worker is restarting')), options.timeoutMinMs);
    });
    try {
      return await Promise.race([pending, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  };

  current = await launch(false);

  return {
    dimension: init.settings.dimension,

    async encode(batch) {
      if (batch.length === 0) return [];
      const thread = await ready();
      const padded = paddedTokenCount(batch);
      const limitMs = deadline.deadlineMs(padded);
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const error = new Error(`inference run exceeded its deadline of ${limitMs} ms (${batch.length} texts, ${padded} padded tokens); worker replaced`);
          recordFailure(error.message);
          emit({ type: 'failed', cause: 'timeout', message: error.message, inFlight: thread.inFlight });
          if (thread === current) replace();
          abandon(thread, error);
          reject(error);
        }, limitMs);
      });
      try {
        const vectors = await Promise.race([thread.run(batch), expired]);
        deadline.record(padded, performance.now() - started);
        return vectors;
      } finally {
        clearTimeout(timer);
      }
    },

    health() {
      if (stuck.size > 0) return { state: 'failing', reason: `${stuck.size} terminated inference worker(s) stuck in native code; the process should be replaced` };
      const failed = recentFailures();
      if (failed >= options.failureLimit) {
        return { state: 'failing', reason: `${failed} inference worker failures in the last ${Math.round(options.failureWindowMs / 1000)} s; last: ${lastFailure}` };
      }
      if (!current?.alive) return { state: 'restarting', reason: `the inference worker is restarting after: ${lastFailure}` };
      return { state: 'ok' };
    },

    subscribe(listener) {
      listeners.push(listener);
    },

    async close() {
      closing = true;
      const thread = current;
      current = undefined;
      if (thread) {
        const ended = await thread.release(RELEASE_WAIT_MS);
        if (!ended) stuck.add(thread);
      }
      return { stuckThreads: stuck.size };
    },
  };
}
