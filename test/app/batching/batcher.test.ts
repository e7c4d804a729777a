import { Batcher, type BatchModel, type BatchReport } from '../../../app/batching/batcher';
import { ServiceError } from '../../../app/errors';
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
    const batcher = new Batcher(model, { maxBatchSize: 4, maxBatchTokens: 1024, maxQueuedTexts: 1000 }, (r) => reports.push(r));
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
    const batcher = new Batcher(model, { maxBatchSize: 3, maxBatchTokens: 64, maxQueuedTexts: 1000 }, (r) => reports.push(r));
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
    const batcher = new Batcher(flaky, { maxBatchSize: 1, maxBatchTokens: 1024, maxQueuedTexts: 1000 });
    const good = batcher.submit([model.tokenize('fine')]);
    const bad = batcher.submit([poison]);
    const alsoGood = batcher.submit([model.tokenize('also fine')]);
    await expect(good).resolves.toMatchObject({ vectors: [expect.any(Float32Array)] });
    await expect(bad).rejects.toMatchObject({ kind: 'inference_failed' });
    await expect(alsoGood).resolves.toMatchObject({ vectors: [expect.any(Float32Array)] });
    await expect(batcher.submit([model.tokenize('after')])).resolves.toBeDefined();
    expect(batcher.stats.failedBatches).toBe(1);
  });

  it('refuses work beyond the queue limit as overloaded, at once', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow: BatchModel = { embed: async (batch) => { await gate; return model.embed(batch); } };
    const batcher = new Batcher(slow, { maxBatchSize: 2, maxBatchTokens: 1024, maxQueuedTexts: 4 });
    const first = batcher.submit([model.tokenize('a'), model.tokenize('b')]);
    await new Promise((resolve) => setImmediate(resolve)); // first run starts and holds the gate
    const queued = batcher.submit([model.tokenize('c'), model.tokenize('d'), model.tokenize('e'), model.tokenize('f')]);
    await expect(batcher.submit([model.tokenize('g')])).rejects.toBeInstanceOf(ServiceError);
    release();
    await expect(Promise.all([first, queued])).resolves.toHaveLength(2);
  });

  it('skips and counts texts whose caller went away before their run', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const seen: number[] = [];
    const slow: BatchModel = { embed: async (batch) => { seen.push(batch.length); await gate; return model.embed(batch); } };
    const batcher = new Batcher(slow, { maxBatchSize: 1, maxBatchTokens: 1024, maxQueuedTexts: 100 });
    const first = batcher.submit([model.tokenize('running')]);
    await new Promise((resolve) => setImmediate(resolve));
    const controller = new AbortController();
    const abandoned = batcher.submit([model.tokenize('gone'), model.tokenize('gone too')], controller.signal).catch((error: Error) => error);
    controller.abort();
    release();
    await first;
    expect(await abandoned).toMatchObject({ message: expect.stringMatching(/went away/) });
    await batcher.whenIdle();
    expect(batcher.stats.skippedAborted).toBe(2);
    expect(seen).toEqual([1]);
  });
});
