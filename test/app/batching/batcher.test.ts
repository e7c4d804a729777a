import { Batcher, type BatcherOptions, type BatchModel, type BatchReport, type ShedReason } from '../../../app/batching/batcher';
import { loadEmbeddingModel, type EmbeddingModel, type TokenizedText } from '../../../app/model';
import { smallModelDir } from '../support/models';
import { cosine } from '../support/server';

/** The batcher over a real (small) onnxruntime model: merged runs must give each text its solo vector. */
describe('Batcher', () => {
  let model: EmbeddingModel;

  beforeAll(async () => {
    model = await loadEmbeddingModel({ dir: await smallModelDir(), onnxFile: 'onnx/model.onnx', maxCharsPerText: 20_000, intraOpThreads: 1, cpuMemArena: false });
  });
  afterAll(() => model.close());

  const texts = [
    'short', 'a somewhat longer sentence about the farmers market', '', 'jazz',
    'word '.repeat(300), 'Café crème', '東京で音楽イベント', 'medium length text about the city council meeting on Tuesday',
  ];

  it('gives concurrent requests of mixed lengths exactly their solo vectors, in order', async () => {
    const solo = await Promise.all(texts.map(async (t) => (await model.embed([model.tokenize(t)]))[0] as Float32Array));
    const reports: BatchReport[] = [];
    const batcher = new Batcher(model, { maxBatchSize: 4, maxBatchTokens: 1024, maxQueuedTexts: 1000, maxQueueWaitMs: 60_000 }, (r) => reports.push(r));
    const requests = [texts.slice(0, 3), texts.slice(3, 5), texts.slice(5)].map((group) => batcher.submit(group.map((t) => model.tokenize(t))));
    const results = await Promise.all(requests);
    const merged = results.flatMap((r) => r.vectors);
    merged.forEach((vector, i) => expect(cosine(vector, solo[i] as Float32Array)).toBeGreaterThanOrEqual(0.99999));
    // The three requests shared runs: fewer runs than texts, and at least one run mixed requests.
    expect(reports.length).toBeLessThan(texts.length);
    expect(Math.max(...reports.map((r) => r.size))).toBeGreaterThan(1);
    for (const r of reports) expect(r.paddedTokens <= 1024 || r.size === 1).toBe(true);
  });

  it('splits a request larger than the batch budget and reassembles it in order', async () => {
    const reports: BatchReport[] = [];
    const batcher = new Batcher(model, { maxBatchSize: 3, maxBatchTokens: 64, maxQueuedTexts: 1000, maxQueueWaitMs: 60_000 }, (r) => reports.push(r));
    const many = Array.from({ length: 11 }, (_, i) => `text number ${i} ${'x '.repeat(i)}`);
    const { vectors } = await batcher.submit(many.map((t) => model.tokenize(t)));
    expect(reports.length).toBeGreaterThanOrEqual(4);
    for (let i = 0; i < many.length; i++) {
      const solo = (await model.embed([model.tokenize(many[i] as string)]))[0] as Float32Array;
      expect(cosine(vectors[i] as Float32Array, solo)).toBeGreaterThanOrEqual(0.99999);
    }
  });

  it('fails only the requests whose batch failed, and keeps serving', async () => {
    const poison = model.tokenize('poison');
    const flaky: BatchModel = {
      embed: (batch: readonly TokenizedText[]) =>
        batch.some((t) => t.ids.join() === poison.ids.join()) ? Promise.reject(new Error('onnxruntime exploded')) : model.embed(batch),
    };
    // Budget of one row per run: each request is its own batch.
    const batcher = new Batcher(flaky, { maxBatchSize: 1, maxBatchTokens: 1024, maxQueuedTexts: 1000, maxQueueWaitMs: 60_000 });
    const good = batcher.submit([model.tokenize('fine')]);
    const bad = batcher.submit([poison]);
    const alsoGood = batcher.submit([model.tokenize('also fine')]);
    await expect(good).resolves.toMatchObject({ vectors: [expect.any(Float32Array)] });
    await expect(bad).rejects.toMatchObject({ kind: 'inference_failed' });
    await expect(alsoGood).resolves.toMatchObject({ vectors: [expect.any(Float32Array)] });
    await expect(batcher.submit([model.tokenize('after')])).resolves.toBeDefined();
    expect(batcher.stats.failedBatches).toBe(1);
  });

  /** A model that holds every run until released, so tests can fill the queue behind it. */
  function gatedModel() {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const seen: number[] = [];
    const slow: BatchModel = { embed: async (batch) => { seen.push(batch.length); await gate; return model.embed(batch); } };
    return { slow, seen, release: () => release() };
  }
  const tick = () => new Promise((resolve) => setImmediate(resolve));
  const options = (overrides: Partial<BatcherOptions> = {}): BatcherOptions => ({ maxBatchSize: 2, maxBatchTokens: 1024, maxQueuedTexts: 4, maxQueueWaitMs: 60_000, ...overrides });

  it('admits by texts before any work and refuses beyond the limit at once, until a slot is released', () => {
    const shed: ShedReason[] = [];
    const batcher = new Batcher(model, options(), () => {}, (reason) => shed.push(reason));
    const first = batcher.admit(3, 30);
    expect(() => batcher.admit(2, 20)).toThrow(expect.objectContaining({ kind: 'overloaded' }));
    expect(batcher.saturated()).toBe(false);
    const second = batcher.admit(1, 10);
    expect(batcher.saturated()).toBe(true);
    first.release();
    first.release(); // idempotent
    expect(batcher.admittedTexts).toBe(1);
    const settled = batcher.admit(1, 10);
    settled.settle(3); // the real count, once tokenised
    settled.release();
    batcher.admit(3, 30).release();
    second.release();
    // An idle server admits even a request over the limit (configuration refuses such limits anyway).
    batcher.admit(10, 100).release();
    expect(shed).toEqual(['queued_texts']);
  });

  it('refuses a request whose expected wait (admitted tokens at the measured cost of a token) is over the bound', async () => {
    const shed: ShedReason[] = [];
    const slowModel: BatchModel = { embed: async (batch) => { await new Promise((resolve) => setTimeout(resolve, 40)); return model.embed(batch); } };
    const batcher = new Batcher(slowModel, options({ maxQueuedTexts: 1000, maxQueueWaitMs: 100, maxBatchSize: 1 }), () => {}, (reason) => shed.push(reason));
    await batcher.submit([model.tokenize('measure me '.repeat(200))]); // a run of 256 tokens, at least 40 ms
    const slots = [];
    while (batcher.expectedWaitMs() <= 50) slots.push(batcher.admit(1, 128));
    expect(slots.length).toBeGreaterThanOrEqual(1);
    expect(slots.length).toBeLessThanOrEqual(3);
    expect(batcher.saturated()).toBe(true);
    expect(() => batcher.admit(1, 128)).toThrow(expect.objectContaining({ kind: 'overloaded', retryAfterSeconds: 1 }));
    expect(shed).toEqual(['queue_wait']);
    slots.forEach((slot) => slot.release());
    expect(() => batcher.admit(1, 10).release()).not.toThrow();
  });

  /** One request running on a model that holds it, and one queued behind it with a wait bound of 50 ms. */
  async function queuedBehindAHeldRun() {
    const { slow, release } = gatedModel();
    const shed: ShedReason[] = [];
    const batcher = new Batcher(slow, options({ maxQueueWaitMs: 50, maxBatchSize: 1 }), () => {}, (reason) => shed.push(reason));
    const running = batcher.submit([model.tokenize('running')]);
    await tick();
    const waiting = batcher.submit([model.tokenize('waiting')]).catch((error: unknown) => error);
    return { batcher, shed, release, running, waiting };
  }

  it('refuses a queued request that could not start within the wait bound', async () => {
    const { batcher, shed, release, running, waiting } = await queuedBehindAHeldRun();
    await new Promise((resolve) => setTimeout(resolve, 80));
    release();
    await expect(running).resolves.toBeDefined();
    expect(await waiting).toMatchObject({ kind: 'overloaded', message: expect.stringMatching(/could not start within 50 ms/) });
    expect(shed).toEqual(['expired']);
    expect(batcher.stats.expired).toBe(1);
  });

  it('refuses a queued request at the wait bound by the clock, while the run ahead of it still hangs', async () => {
    const { batcher, shed, release, running, waiting } = await queuedBehindAHeldRun();
    // The run never ends on its own: the waiting request must be refused without it.
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([waiting, new Promise((resolve) => (timer = setTimeout(() => resolve('still waiting after 5 s'), 5000)))]);
    clearTimeout(timer);
    expect(outcome).toMatchObject({ kind: 'overloaded', message: expect.stringMatching(/could not start within 50 ms/) });
    expect(shed).toEqual(['expired']);
    release();
    await expect(running).resolves.toBeDefined();
    expect(batcher.stats.expired).toBe(1);
  });

  it('reports the wait before a request\'s first run as its queue time, not the runs of its own texts', async () => {
    // A wait bound far below the time its own twelve runs take: only the wait for the first counts.
    const batcher = new Batcher(model, options({ maxQueuedTexts: 1000, maxBatchSize: 1, maxQueueWaitMs: 20 }));
    await batcher.submit([model.tokenize('measure the throughput first '.repeat(100))]);
    const many = Array.from({ length: 12 }, (_, i) => model.tokenize(`text ${i}`));
    const { queueMs, inferenceMs } = await batcher.submit(many);
    expect(queueMs).toBeLessThan(inferenceMs);
  });

  it('fails everything queued and running on cancelAll, and refuses new work', async () => {
    const { slow, release } = gatedModel();
    const batcher = new Batcher(slow, options({ maxBatchSize: 1 }));
    const running = batcher.submit([model.tokenize('running')]).catch((error: unknown) => error);
    await tick();
    const queued = batcher.submit([model.tokenize('queued')]).catch((error: unknown) => error);
    batcher.cancelAll();
    expect(await running).toMatchObject({ kind: 'not_ready', message: expect.stringMatching(/shutting down/) });
    expect(await queued).toMatchObject({ kind: 'not_ready' });
    expect(() => batcher.admit(1, 10)).toThrow(expect.objectContaining({ kind: 'not_ready' }));
    release();
    await batcher.whenIdle();
  });

  it('fails a request at once when its caller goes away, and never runs its texts', async () => {
    const { slow, seen, release } = gatedModel();
    const batcher = new Batcher(slow, options({ maxQueuedTexts: 100, maxBatchSize: 1 }));
    const first = batcher.submit([model.tokenize('running')]);
    await tick();
    const controller = new AbortController();
    const abandoned = batcher.submit([model.tokenize('gone'), model.tokenize('gone too')], controller.signal).catch((error: unknown) => error);
    controller.abort();
    expect(await abandoned).toMatchObject({ kind: 'client_closed', message: expect.stringMatching(/went away/) });
    expect(batcher.queuedTexts).toBe(0);
    release();
    await first;
    await batcher.whenIdle();
    expect(batcher.stats.skippedAborted).toBe(2);
    expect(seen).toEqual([1]);
  });
});
