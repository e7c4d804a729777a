import { notReady, shuttingDown } from '../errors';

/** What the supervisor needs of an inference thread (inference-thread.ts; a fake one in tests). */
export interface SupervisedThread {
  readonly alive: boolean;
  /** Runs posted and not answered. */
  readonly inFlight: number;
  /** Resolves when the thread has really ended (a thread stuck in native code may never). */
  readonly exited: Promise<void>;
  run(batch: ReadonlyArray<ArrayLike<number>>): Promise<Float32Array[]>;
  /** Asks the thread to release its session and end; terminates it past `timeoutMs`. True once it has ended. */
  release(timeoutMs: number): Promise<boolean>;
  /** Ends the thread whatever it is doing, failing its runs with `reason`; false if it has not ended within `timeoutMs`. */
  terminate(timeoutMs: number, reason?: Error): Promise<boolean>;
}

/**
 * Starts a thread and resolves once it is ready to run (rejects if it cannot load). `onEnd` is
 * called once if the thread later ends without being asked to (exit, uncaught error).
 */
export type ThreadFactory = (onEnd: (thread: SupervisedThread, error: Error) => void) => Promise<SupervisedThread>;

export interface SupervisionOptions {
  /** This many failures (exits, crashes, runs past their deadline, failed starts) within the window report "failing". */
  readonly failureLimit: number;
  readonly failureWindowMs: number;
  /** The deadline of a run whose caller gives none (callers without a scheduler: the client's local model, the raw benchmark). */
  readonly defaultRunDeadlineMs: number;
}

export const DEFAULT_SUPERVISION: SupervisionOptions = { failureLimit: 3, failureWindowMs: 300_000, defaultRunDeadlineMs: 60_000 };

/** What the health check reports about inference. */
export type InferenceHealth =
  | { readonly state: 'ok' }
  | { readonly state: 'restarting' | 'failing'; readonly reason: string };

export type SupervisorEvent =
  | { readonly type: 'started'; readonly replacement: boolean; readonly startMs: number }
  | { readonly type: 'start_failed'; readonly message: string; readonly retryInMs: number }
  | { readonly type: 'failed'; readonly cause: 'exit' | 'timeout'; readonly message: string; readonly inFlight: number }
  | { readonly type: 'stuck'; readonly message: string };

export interface CloseOutcome {
  /** Threads that did not end when terminated (stuck in native code); the process cannot exit normally. */
  readonly stuckThreads: number;
}

/** An inference thread, watched: a dead or hung thread is replaced, and health says so. */
export interface Supervisor {
  /** One inference run; fails past `deadlineMs` (waiting for a replacement thread included). */
  run(batch: ReadonlyArray<ArrayLike<number>>, deadlineMs?: number): Promise<Float32Array[]>;
  health(): InferenceHealth;
  subscribe(listener: (event: SupervisorEvent) => void): void;
  /** Bounded: resolves within a few seconds even when a run is hung. */
  close(): Promise<CloseOutcome>;
}

/** How long a terminated thread gets to end before it counts as stuck. */
const TERMINATE_WAIT_MS = 1000;
/** How long close() lets the session release itself before terminating the thread (and then waits for that). */
const RELEASE_WAIT_MS = 750;
/** Back-off between attempts to start a replacement that keeps failing to load. */
export const RESTART_BACKOFF_MS: readonly number[] = [0, 1000, 2000, 5000, 10_000, 30_000];

const backoff = (attempt: number) => RESTART_BACKOFF_MS[Math.min(attempt, RESTART_BACKOFF_MS.length - 1)] as number;

/**
 * Starts the first thread (resolving once it is ready, rejecting if it cannot load) and keeps one
 * running: when the thread exits or crashes, what it had in flight fails and a replacement starts
 * (retried with back-off while it fails to load); a run past its deadline gets its thread
 * terminated, fails, and the same happens. Runs that arrive while there is no thread wait for the
 * replacement within their deadline. Health reports "restarting" while there is no thread and
 * "failing" when failures keep happening or a terminated thread would not end.
 */
export async function startSupervisor(startThread: ThreadFactory, options: SupervisionOptions = DEFAULT_SUPERVISION): Promise<Supervisor> {
  const listeners: Array<(event: SupervisorEvent) => void> = [];
  const emit = (event: SupervisorEvent) => listeners.forEach((listener) => listener(event));
  const failures: number[] = [];
  const stuck = new Set<SupervisedThread>();
  let closing = false;
  let current: SupervisedThread | undefined;
  let lastFailure = '';
  let replacement: Promise<SupervisedThread> | undefined;

  const recordFailure = (message: string) => {
    lastFailure = message;
    failures.push(Date.now());
  };
  const recentFailures = () => {
    const since = Date.now() - options.failureWindowMs;
    while (failures.length > 0 && (failures[0] as number) < since) failures.shift();
    return failures.length;
  };

  const launch = async (isReplacement: boolean): Promise<SupervisedThread> => {
    const started = performance.now();
    const thread = await startThread((ended, error) => onThreadEnd(ended, error));
    emit({ type: 'started', replacement: isReplacement, startMs: Math.round(performance.now() - started) });
    return thread;
  };

  const replace = () => {
    current = undefined;
    if (replacement || closing) return;
    replacement = (async () => {
      for (let attempt = 0; ; attempt++) {
        if (backoff(attempt) > 0) await new Promise((resolve) => setTimeout(resolve, backoff(attempt)).unref());
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
          emit({ type: 'start_failed', message: (error as Error).message, retryInMs: backoff(attempt + 1) });
        }
      }
    })();
    replacement.then(
      () => (replacement = undefined),
      () => (replacement = undefined),
    );
  };

  const onThreadEnd = (thread: SupervisedThread, error: Error) => {
    if (closing) return;
    recordFailure(error.message);
    emit({ type: 'failed', cause: 'exit', message: error.message, inFlight: thread.inFlight });
    if (thread === current) replace();
  };

  const abandon = (thread: SupervisedThread, reason: Error) => {
    void thread.terminate(TERMINATE_WAIT_MS, reason).then((ended) => {
      if (ended) return;
      stuck.add(thread);
      emit({ type: 'stuck', message: 'a terminated inference worker has not ended (stuck in native code)' });
      void thread.exited.then(() => stuck.delete(thread));
    });
  };

  /** The running thread, or the replacement being started, waited for up to `waitMs`. */
  const ready = async (waitMs: number): Promise<SupervisedThread> => {
    if (closing) throw shuttingDown();
    if (current?.alive) return current;
    if (!replacement) replace();
    const pending = replacement as Promise<SupervisedThread>;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(notReady('the inference worker is restarting')), waitMs);
    });
    try {
      return await Promise.race([pending, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  };

  current = await launch(false);

  return {
    async run(batch, deadlineMs = options.defaultRunDeadlineMs) {
      if (batch.length === 0) return [];
      const thread = await ready(deadlineMs);
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const error = new Error(`inference run exceeded its deadline of ${deadlineMs} ms (${batch.length} texts); worker replaced`);
          recordFailure(error.message);
          emit({ type: 'failed', cause: 'timeout', message: error.message, inFlight: thread.inFlight });
          if (thread === current) replace();
          abandon(thread, error);
          reject(error);
        }, deadlineMs);
      });
      try {
        return await Promise.race([thread.run(batch), expired]);
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
