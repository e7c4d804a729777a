import type { RunEvent, SchedulingEvent } from '../../../app/batching/events';
import { MIN_BULK_RUN_TOKENS } from '../../../app/batching/run-cost';
import { fakeTexts, schedulingOver, TimedFakeModel, type FakeRun } from '../support/fake-model';

/**
 * The scheduling policy, deterministically: a fake model whose runs take 1 ms per padded token on
 * jest's fake clock, so every run's start and end are exact. Queries (requests of a few texts) go
 * first, bulk runs are bounded by time, bulk requests share the bulk lane fairly by tokens, and the
 * model never idles while texts wait.
 */
describe('scheduling', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const MS_PER_TOKEN = 1;
  // Above one full-length text at this cost (256 ms): bulk runs never hold less than that.
  const RUN_TARGET_MS = 400;
  const advance = (ms: number) => jest.advanceTimersByTimeAsync(ms);
  const runsOf = (model: TimedFakeModel, request: number) => model.runs.filter((run) => run.texts.some((text) => text.request === request));
  const firstRunOf = (model: TimedFakeModel, request: number) => runsOf(model, request)[0] as FakeRun;
  const isRun = (event: SchedulingEvent): event is RunEvent => event.type === 'run';
  /** When the run in progress at `time` ended (`time` itself when the model was idle): a query arriving then must start by it. */
  const endOfRunAt = (model: TimedFakeModel, time: number) => model.runs.find((run) => run.startedAt <= time && time < run.endedAt)?.endedAt ?? time;

  it('starts a query that arrives during bulk work within one bulk run, and bulk runs stay within the run target', async () => {
    const model = new TimedFakeModel(MS_PER_TOKEN);
    const { submit, events } = schedulingOver(model, { runTargetMs: RUN_TARGET_MS });
    const bulk = submit(fakeTexts(1, 100, 50)); // 5 s of work
    await advance(1030); // mid-run
    const arrivedAt = performance.now();
    const query = submit(fakeTexts(2, 1, 12));
    await advance(200);
    const answered = await query;

    const queryRun = firstRunOf(model, 2);
    expect(queryRun.startedAt).toBeGreaterThanOrEqual(arrivedAt);
    expect(queryRun.startedAt).toBe(endOfRunAt(model, arrivedAt));
    expect(queryRun.startedAt - arrivedAt).toBeLessThanOrEqual(RUN_TARGET_MS);
    expect(answered.queueMs).toBeLessThanOrEqual(RUN_TARGET_MS);
    expect(queryRun.texts).toEqual([{ request: 2, index: 0, length: 12 }]);
    expect(Array.from(answered.vectors[0] as Float32Array)).toEqual([2, 0]);

    await advance(5000);
    const { vectors } = await bulk;
    expect(vectors.map((v) => Array.from(v))).toEqual(Array.from({ length: 100 }, (_, i) => [1, i]));
    // The first three bulk runs, before the cost is known, hold a fixed number of tokens; every later one fits the target.
    const bulkRuns = runsOf(model, 1);
    for (const run of bulkRuns.slice(0, 3)) expect(run.paddedTokens).toBeLessThanOrEqual(MIN_BULK_RUN_TOKENS);
    for (const run of bulkRuns.slice(3)) expect(run.endedAt - run.startedAt).toBeLessThanOrEqual(RUN_TARGET_MS);
    expect(events.filter(isRun).map((run) => run.lane)).toContain('interactive');
  });

  it('keeps a bulk run at one full-length text or more when the run target would hold less (a slow or busy machine)', async () => {
    const model = new TimedFakeModel(MS_PER_TOKEN);
    const { submit } = schedulingOver(model, { runTargetMs: 50 });
    const bulk = submit(fakeTexts(1, 100, 50));
    await advance(10_000);
    await bulk;
    const runs = runsOf(model, 1);
    // Whole texts of 50 tokens: a run reaches the floor less one text at most; the last run holds what is left.
    for (const run of runs.slice(0, -1)) expect(run.paddedTokens).toBeGreaterThan(MIN_BULK_RUN_TOKENS - 50);
  });

  it('never leaves the model idle while texts wait: each run starts as the previous one ends', async () => {
    const model = new TimedFakeModel(MS_PER_TOKEN);
    const { submit } = schedulingOver(model);
    const requests = [submit(fakeTexts(1, 30, 40)), submit(fakeTexts(2, 20, 60))];
    for (let t = 0; t < 6; t++) {
      await advance(150);
      requests.push(submit(fakeTexts(10 + t, 1, 10)));
    }
    await advance(5000);
    await Promise.all(requests);
    for (let i = 1; i < model.runs.length; i++) expect((model.runs[i] as FakeRun).startedAt).toBe((model.runs[i - 1] as FakeRun).endedAt);
    const work = model.runs.reduce((sum, run) => sum + run.paddedTokens * MS_PER_TOKEN, 0);
    expect((model.runs.at(-1) as FakeRun).endedAt - (model.runs[0] as FakeRun).startedAt).toBe(work);
  });

  it('shares the bulk lane fairly by tokens between two bulk callers, whatever their request sizes, while queries still go first', async () => {
    const model = new TimedFakeModel(MS_PER_TOKEN);
    const { submit } = schedulingOver(model, { runTargetMs: RUN_TARGET_MS });
    // Same work (1,200 tokens), one as many short texts, the other as a few long ones.
    const many = submit(fakeTexts(1, 60, 20));
    const few = submit(fakeTexts(2, 12, 100));
    const queries: Array<{ arrivedAt: number; request: number; answer: Promise<unknown> }> = [];
    for (let q = 0; q < 12; q++) {
      await advance(170);
      queries.push({ arrivedAt: performance.now(), request: 100 + q, answer: submit(fakeTexts(100 + q, 1, 12)) });
    }
    await advance(3000);
    await Promise.all([many, few, ...queries.map((q) => q.answer)]);

    // At the end of every run while both are served, neither is ahead by more than a turn plus the longest text (a turn is a run's worth; before the cost is known, a fixed number of tokens).
    let served = { 1: 0, 2: 0 } as Record<number, number>;
    const bothDoneAt = Math.min(...[1, 2].map((request) => (runsOf(model, request).at(-1) as FakeRun).endedAt));
    for (const run of model.runs) {
      for (const text of run.texts) if (text.request in served) served = { ...served, [text.request]: (served[text.request] as number) + text.length };
      if (run.endedAt < bothDoneAt) expect(Math.abs((served[1] as number) - (served[2] as number))).toBeLessThanOrEqual(MIN_BULK_RUN_TOKENS + 100);
    }
    const finished = [1, 2].map((request) => (runsOf(model, request).at(-1) as FakeRun).endedAt);
    expect(Math.abs((finished[0] as number) - (finished[1] as number))).toBeLessThanOrEqual(2 * RUN_TARGET_MS);
    // Every query started as soon as the bulk run in progress when it arrived had ended.
    for (const query of queries) {
      const started = firstRunOf(model, query.request).startedAt;
      expect(started).toBeGreaterThanOrEqual(query.arrivedAt);
      expect(started).toBeLessThanOrEqual(endOfRunAt(model, query.arrivedAt));
    }
  });

  it('merges concurrent queries into one run, and runs a bulk text longer than the run target alone', async () => {
    const model = new TimedFakeModel(MS_PER_TOKEN);
    const { submit } = schedulingOver(model, { runTargetMs: RUN_TARGET_MS });
    const queries = [1, 2, 3].map((q) => submit(fakeTexts(10 + q, 2, 8)));
    const long = submit(fakeTexts(5, 6, 256)); // each text alone is 2.5 run targets
    await advance(2000);
    await Promise.all([...queries, long]);
    const queryRuns = model.runs.filter((run) => run.texts.some((text) => text.request > 10));
    expect(queryRuns).toHaveLength(1);
    expect(queryRuns[0]?.texts).toHaveLength(6);
    for (const run of runsOf(model, 5)) expect(run.texts).toHaveLength(1);
  });

  it('gives each run a deadline from the one run-cost estimate: the floor until measured, then a multiple of its expected time', async () => {
    const model = new TimedFakeModel(MS_PER_TOKEN);
    const { submit } = schedulingOver(model, { runDeadline: { factor: 10, minMs: 500 }, maxBatchTokens: 4096, maxBatchSize: 128 });
    for (let i = 1; i <= 3; i++) await Promise.all([submit(fakeTexts(i, 1, 200)), advance(400)]); // runs large enough to be measured
    await Promise.all([submit(fakeTexts(4, 4, 200)), advance(2000)]);
    expect(model.runs.slice(0, 3).map((run) => run.deadlineMs)).toEqual([500, 500, 500]);
    expect(model.runs[3]).toMatchObject({ paddedTokens: 800, deadlineMs: 8000 });
  });

  it('fails only the requests of a failed run, and keeps serving', async () => {
    const model = new TimedFakeModel(MS_PER_TOKEN, (request) => request === 2);
    const { submit, events } = schedulingOver(model, { maxBatchSize: 1 });
    const good = submit(fakeTexts(1, 1, 10));
    const bad = submit(fakeTexts(2, 1, 10)).catch((error: unknown) => error);
    const alsoGood = submit(fakeTexts(3, 1, 10));
    await advance(100);
    await expect(good).resolves.toMatchObject({ vectors: [expect.any(Float32Array)] });
    expect(await bad).toMatchObject({ kind: 'inference_failed', message: 'inference failed' });
    await expect(alsoGood).resolves.toBeDefined();
    const failed = events.filter(isRun).filter((run) => run.error !== undefined);
    expect(failed).toHaveLength(1);
    expect(String(failed[0]?.error)).toMatch(/exploded/);
  });

  it('refuses a queued query that could no longer start within the wait bound, before its run, and says so', async () => {
    const model = new TimedFakeModel(MS_PER_TOKEN);
    const { submit, events } = schedulingOver(model, { maxQueueWaitMs: 400, maxBatchSize: 1 });
    // Admitted before any run was measured (admission then counts texts only); the first run teaches the cost.
    const slow = [2, 3, 4].map((q) => submit(fakeTexts(q, 1, 250)).catch((error: unknown) => error)); // 750 ms of queries
    const late = submit(fakeTexts(5, 1, 10)).catch((error: unknown) => error);
    await advance(1000);
    const outcomes = await Promise.all([...slow, late]);
    expect(outcomes[0]).toMatchObject({ vectors: expect.any(Array) });
    expect(outcomes.slice(2)).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'overloaded', message: expect.stringMatching(/could not start within 400 ms/) })]));
    const expired = events.filter((event) => event.type === 'shed' && event.reason === 'expired');
    expect(expired.length).toBeGreaterThanOrEqual(1);
    // Refused before they would have run: no run ever held them.
    const refused = outcomes.flatMap((outcome, i) => ((outcome as { kind?: string }).kind === 'overloaded' ? [[2, 3, 4, 5][i] as number] : []));
    for (const request of refused) expect(runsOf(model, request)).toEqual([]);
  });

  it('refuses a request at its wait bound by the clock while the run ahead of it hangs', async () => {
    let release: () => void = () => {};
    const hung = new Promise<void>((resolve) => (release = resolve));
    const model = { embed: async (batch: readonly { ids: readonly number[] }[]) => (await hung, batch.map(() => Float32Array.of(0))) };
    const { submit, events } = schedulingOver(model, { maxQueueWaitMs: 400 });
    const running = submit(fakeTexts(1, 1, 10));
    await advance(1);
    const waiting = submit(fakeTexts(2, 1, 10)).catch((error: unknown) => error);
    await advance(399);
    expect(await Promise.race([waiting, Promise.resolve('still waiting')])).toBe('still waiting');
    await advance(1);
    expect(await waiting).toMatchObject({ kind: 'overloaded', message: expect.stringMatching(/could not start within 400 ms/) });
    expect(events.filter((event) => event.type === 'shed' && event.reason === 'expired')).toHaveLength(1);
    release();
    await expect(running).resolves.toMatchObject({ vectors: [expect.any(Float32Array)] });
  });

  it('drops a request whose caller went away at once, never runs its texts, and counts them', async () => {
    const model = new TimedFakeModel(MS_PER_TOKEN);
    const { submit, scheduler, events } = schedulingOver(model, { maxBatchSize: 1 });
    const first = submit(fakeTexts(1, 1, 50));
    await advance(1);
    const controller = new AbortController();
    const abandoned = submit(fakeTexts(2, 2, 10), controller.signal).catch((error: unknown) => error);
    controller.abort();
    expect(await abandoned).toMatchObject({ kind: 'client_closed', message: expect.stringMatching(/went away/) });
    expect(scheduler.queuedTexts).toBe(0);
    await advance(100);
    await first;
    await scheduler.whenIdle();
    expect(events).toContainEqual({ type: 'abandoned', texts: 2 });
    expect(runsOf(model, 2)).toEqual([]);
  });

  it('fails everything queued and running on cancelAll, and refuses new work', async () => {
    const model = new TimedFakeModel(MS_PER_TOKEN);
    const { submit, scheduler, admission } = schedulingOver(model, { maxBatchSize: 1 });
    const running = submit(fakeTexts(1, 1, 50)).catch((error: unknown) => error);
    await advance(1);
    const queued = submit(fakeTexts(2, 10, 50)).catch((error: unknown) => error);
    admission.close();
    scheduler.cancelAll();
    expect(await running).toMatchObject({ kind: 'not_ready', message: expect.stringMatching(/shutting down/) });
    expect(await queued).toMatchObject({ kind: 'not_ready' });
    expect(() => admission.admit(1, 10)).toThrow(expect.objectContaining({ kind: 'not_ready' }));
    await advance(100);
    await scheduler.whenIdle();
    expect(runsOf(model, 2)).toEqual([]);
  });
});
