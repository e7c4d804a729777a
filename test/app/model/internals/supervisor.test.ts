import { RESTART_BACKOFF_MS, startSupervisor, type SupervisedThread, type SupervisorEvent, type ThreadFactory } from '../../../../app/model/supervisor';

type Behaviour = 'answer' | 'hang';

/**
 * A thread that does what the test says: answers each run after `runMs` (or never), ends when told
 * (`crash`), and, when `stuck`, does not end when terminated (a thread caught in a native call).
 */
class FakeThread implements SupervisedThread {
  alive = true;
  inFlight = 0;
  terminated = false;
  released = false;
  readonly exited: Promise<void>;
  private endNow: () => void = () => {};
  private readonly pending = new Set<(error: Error) => void>();

  constructor(
    private readonly onEnd: (thread: SupervisedThread, error: Error) => void,
    public behaviour: Behaviour,
    private readonly stuck: boolean,
    private readonly runMs = 10,
  ) {
    this.exited = new Promise((resolve) => (this.endNow = resolve));
  }

  run(batch: ReadonlyArray<ArrayLike<number>>): Promise<Float32Array[]> {
    if (!this.alive) return Promise.reject(new Error('the thread has ended'));
    this.inFlight++;
    return new Promise((resolve, reject) => {
      this.pending.add(reject);
      if (this.behaviour === 'hang') return;
      setTimeout(() => {
        this.inFlight--;
        this.pending.delete(reject);
        resolve(batch.map((row) => Float32Array.of(row.length)));
      }, this.runMs);
    });
  }

  /** The thread dies on its own (exit, uncaught error): what it had in flight fails. */
  crash(message = 'inference worker exited with code 70'): void {
    this.end(new Error(message));
    this.onEnd(this, new Error(message));
  }

  async release(): Promise<boolean> {
    this.released = true;
    this.end(new Error('released'));
    return true;
  }

  async terminate(_timeoutMs: number, reason?: Error): Promise<boolean> {
    this.terminated = true;
    for (const reject of this.pending) reject(reason ?? new Error('terminated'));
    this.pending.clear();
    if (this.stuck) return false;
    this.end(reason ?? new Error('terminated'));
    return true;
  }

  /** A stuck thread's native call returns at last. */
  finallyEnds(): void {
    this.end(new Error('ended late'));
  }

  private end(error: Error): void {
    if (!this.alive) return;
    this.alive = false;
    for (const reject of this.pending) reject(error);
    this.pending.clear();
    this.endNow();
  }
}

/** A factory whose threads the test can reach, and which fails to start while `failStarts` > 0. */
function fakeThreads(options: { behaviours?: Behaviour[]; stuck?: boolean } = {}) {
  const threads: FakeThread[] = [];
  let failStarts = 0;
  const factory: ThreadFactory = async (onEnd) => {
    if (failStarts > 0) {
      failStarts--;
      throw new Error('cannot load the session');
    }
    const thread = new FakeThread(onEnd, options.behaviours?.[threads.length] ?? 'answer', options.stuck ?? false);
    threads.push(thread);
    return thread;
  };
  return { factory, threads, failNextStarts: (n: number) => (failStarts = n) };
}

describe('supervisor (a fake thread on the fake clock)', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());
  const advance = (ms: number) => jest.advanceTimersByTimeAsync(ms);
  const options = { failureLimit: 3, failureWindowMs: 60_000, defaultRunDeadlineMs: 5000 };
  const watch = async (threads: ReturnType<typeof fakeThreads>) => {
    const supervisor = await startSupervisor(threads.factory, options);
    const events: SupervisorEvent[] = [];
    supervisor.subscribe((event) => events.push(event));
    return { supervisor, events };
  };

  it('runs on its thread and reports ok', async () => {
    const threads = fakeThreads();
    const { supervisor } = await watch(threads);
    const run = supervisor.run([[1, 2, 3]], 1000);
    await advance(10);
    expect((await run).map((v) => Array.from(v))).toEqual([[3]]);
    expect(supervisor.health()).toEqual({ state: 'ok' });
    await expect(supervisor.run([], 1000)).resolves.toEqual([]);
  });

  it('fails what a dying thread had in flight, says restarting, and replaces it at once', async () => {
    const threads = fakeThreads({ behaviours: ['hang', 'answer'] });
    const { supervisor, events } = await watch(threads);
    const inFlight = supervisor.run([[1]], 10_000).catch((error: unknown) => error);
    await advance(0); // posted to the thread
    (threads.threads[0] as FakeThread).crash();
    expect(supervisor.health()).toEqual({ state: 'restarting', reason: expect.stringMatching(/restarting after: inference worker exited with code 70/) });
    expect(await inFlight).toMatchObject({ message: expect.stringMatching(/exited with code 70/) });
    await advance(0);
    expect(threads.threads).toHaveLength(2);
    expect(supervisor.health()).toEqual({ state: 'ok' });
    expect(events).toEqual([
      { type: 'failed', cause: 'exit', message: 'inference worker exited with code 70', inFlight: 1 },
      { type: 'started', replacement: true, startMs: expect.any(Number) },
    ]);
    const after = supervisor.run([[1, 2]], 1000);
    await advance(10);
    await expect(after).resolves.toHaveLength(1);
  });

  it('retries a replacement that fails to load with back-off, and runs wait for it within their deadline', async () => {
    const threads = fakeThreads();
    const { supervisor, events } = await watch(threads);
    threads.failNextStarts(3);
    (threads.threads[0] as FakeThread).crash();
    // A run that cannot wait long enough is refused as not ready; one that can waits for the replacement.
    const impatient = supervisor.run([[1]], 500).catch((error: unknown) => error);
    const patient = supervisor.run([[1]], 60_000);
    await advance(500);
    expect(await impatient).toMatchObject({ kind: 'not_ready', message: expect.stringMatching(/restarting/) });
    const delays = RESTART_BACKOFF_MS.slice(1, 4);
    await advance(delays.reduce((sum, ms) => sum + ms, 0));
    await advance(10);
    await expect(patient).resolves.toHaveLength(1);
    expect(events.filter((e) => e.type === 'start_failed').map((e) => (e as { retryInMs: number }).retryInMs)).toEqual(delays);
    // One exit and three failed starts within the window: failing, until they age out.
    expect(supervisor.health()).toEqual({ state: 'failing', reason: expect.stringMatching(/^4 inference worker failures in the last 60 s; last: replacement worker failed to start/) });
    await advance(60_000);
    expect(supervisor.health()).toEqual({ state: 'ok' });
  });

  it('fails a run past its deadline, terminates its thread and serves from a replacement', async () => {
    const threads = fakeThreads({ behaviours: ['hang', 'answer'] });
    const { supervisor, events } = await watch(threads);
    const hung = supervisor.run([[1, 2]], 2000).catch((error: unknown) => error);
    await advance(1999);
    expect(events).toEqual([]);
    await advance(1);
    expect(await hung).toMatchObject({ message: 'inference run exceeded its deadline of 2000 ms (1 texts); worker replaced' });
    expect((threads.threads[0] as FakeThread).terminated).toBe(true);
    expect(events[0]).toEqual({ type: 'failed', cause: 'timeout', message: expect.stringMatching(/deadline of 2000 ms/), inFlight: 1 });
    await advance(0);
    const next = supervisor.run([[1]], 2000);
    await advance(10);
    await expect(next).resolves.toHaveLength(1);
    expect(threads.threads).toHaveLength(2);
  });

  it('uses its default deadline for a run given none', async () => {
    const threads = fakeThreads({ behaviours: ['hang'] });
    const { supervisor } = await watch(threads);
    const hung = supervisor.run([[1]]).catch((error: unknown) => error);
    await advance(options.defaultRunDeadlineMs);
    expect(await hung).toMatchObject({ message: expect.stringMatching(/deadline of 5000 ms/) });
  });

  it('reports failing while a terminated thread stays stuck in native code, and ok once it ends', async () => {
    const threads = fakeThreads({ behaviours: ['hang', 'answer'], stuck: true });
    const { supervisor, events } = await watch(threads);
    const hung = supervisor.run([[1]], 1000).catch((error: unknown) => error);
    await advance(1000);
    await hung;
    await advance(0);
    expect(events.map((e) => e.type).sort()).toEqual(['failed', 'started', 'stuck']);
    expect(supervisor.health()).toEqual({ state: 'failing', reason: expect.stringMatching(/1 terminated inference worker\(s\) stuck in native code/) });
    // The replacement serves meanwhile.
    const served = supervisor.run([[1]], 1000);
    await advance(10);
    await expect(served).resolves.toHaveLength(1);
    (threads.threads[0] as FakeThread).finallyEnds();
    await advance(0);
    expect(supervisor.health()).toEqual({ state: 'ok' });
  });

  it('on close releases its thread, counts stuck ones, and refuses runs', async () => {
    const threads = fakeThreads({ behaviours: ['hang', 'answer'], stuck: true });
    const { supervisor } = await watch(threads);
    void supervisor.run([[1]], 100).catch(() => {});
    await advance(100);
    await advance(0);
    expect(await supervisor.close()).toEqual({ stuckThreads: 1 });
    expect((threads.threads[1] as FakeThread).released).toBe(true);
    await expect(supervisor.run([[1]], 100)).rejects.toMatchObject({ kind: 'not_ready', message: expect.stringMatching(/shutting down/) });
  });

  it('rejects at start when the first thread cannot load', async () => {
    const threads = fakeThreads();
    threads.failNextStarts(1);
    await expect(startSupervisor(threads.factory, options)).rejects.toThrow('cannot load the session');
  });
});
