import type { RunEvent } from '../../../app/batching/events';
import type { InferenceModel } from '../../../app/batching/scheduler';
import { loadEmbeddingModel, type EmbeddingModel, type TokenizedText } from '../../../app/model';
import { schedulingOver } from '../support/fake-model';
import { smallModelDir } from '../support/models';
import { cosine } from '../support/server';

/** Admission, queue and scheduler over a real (small) onnxruntime model: merged runs must give each text its solo vector. */
describe('batching over a real model', () => {
  let model: EmbeddingModel;

  beforeAll(async () => {
    model = await loadEmbeddingModel({ dir: await smallModelDir(), onnxFile: 'onnx/model.onnx', maxCharsPerText: 20_000, intraOpThreads: 1, cpuMemArena: false });
  });
  afterAll(() => model.close());

  const texts = [
    'short', 'a somewhat longer sentence about the farmers market', '', 'jazz',
    'word '.repeat(300), 'Café crème', '東京で音楽イベント', 'medium length text about the city council meeting on Tuesday',
  ];
  const tokenize = (group: readonly string[]) => group.map((t) => model.tokenize(t));
  const solo = async (text: string) => (await model.embed([model.tokenize(text)]))[0] as Float32Array;
  const runsIn = (events: readonly { type: string }[]) => events.filter((e): e is RunEvent => e.type === 'run');

  it('gives concurrent requests of mixed lengths exactly their solo vectors, in order', async () => {
    const alone = await Promise.all(texts.map(solo));
    const { submit, events } = schedulingOver(model, { maxBatchSize: 4, maxBatchTokens: 1024 });
    const results = await Promise.all([texts.slice(0, 3), texts.slice(3, 5), texts.slice(5)].map((group) => submit(tokenize(group))));
    results.flatMap((r) => r.vectors).forEach((vector, i) => expect(cosine(vector, alone[i] as Float32Array)).toBeGreaterThanOrEqual(0.99999));
    // The three queries shared runs: fewer runs than texts, and at least one run mixed requests.
    const runs = runsIn(events);
    expect(runs.length).toBeLessThan(texts.length);
    expect(Math.max(...runs.map((r) => r.texts))).toBeGreaterThan(1);
    for (const r of runs) expect(r.paddedTokens <= 1024 || r.texts === 1).toBe(true);
  });

  it('splits a bulk request across runs and reassembles it in order, while a query joins and gets its own vector', async () => {
    const { submit, events } = schedulingOver(model, { maxBatchSize: 3, maxBatchTokens: 64 });
    const many = Array.from({ length: 11 }, (_, i) => `text number ${i} ${'x '.repeat(i)}`);
    const bulk = submit(tokenize(many));
    const query = submit(tokenize(['where is the jazz night']));
    const [{ vectors }, answered] = await Promise.all([bulk, query]);
    expect(runsIn(events).length).toBeGreaterThanOrEqual(4);
    expect(new Set(runsIn(events).map((r) => r.lane))).toEqual(new Set(['bulk', 'interactive']));
    for (let i = 0; i < many.length; i++) expect(cosine(vectors[i] as Float32Array, await solo(many[i] as string))).toBeGreaterThanOrEqual(0.99999);
    expect(cosine(answered.vectors[0] as Float32Array, await solo('where is the jazz night'))).toBeGreaterThanOrEqual(0.99999);
  });

  it('fails only the requests whose run failed, and keeps serving', async () => {
    const poison = model.tokenize('poison');
    const flaky: InferenceModel = {
      embed: (batch: readonly TokenizedText[], deadlineMs: number) =>
        batch.some((t) => t.ids.join() === poison.ids.join()) ? Promise.reject(new Error('onnxruntime exploded')) : model.embed(batch, deadlineMs),
    };
    // One row per run: each request is its own run.
    const { submit, events } = schedulingOver(flaky, { maxBatchSize: 1 });
    const good = submit(tokenize(['fine']));
    const bad = submit([poison]);
    const alsoGood = submit(tokenize(['also fine']));
    await expect(good).resolves.toMatchObject({ vectors: [expect.any(Float32Array)] });
    await expect(bad).rejects.toMatchObject({ kind: 'inference_failed' });
    await expect(alsoGood).resolves.toMatchObject({ vectors: [expect.any(Float32Array)] });
    await expect(submit(tokenize(['after']))).resolves.toBeDefined();
    expect(runsIn(events).filter((r) => r.error !== undefined)).toHaveLength(1);
  });

  it('reports the wait before a request\'s first run as its queue time, not the runs of its own texts', async () => {
    // A wait bound far below the time its own twelve runs take: only the wait for the first counts.
    const { submit } = schedulingOver(model, { maxBatchSize: 1, maxQueueWaitMs: 20 });
    await submit(tokenize(['measure the cost of a token first '.repeat(10)]));
    const { queueMs, inferenceMs } = await submit(tokenize(Array.from({ length: 12 }, (_, i) => `text ${i}`)));
    expect(queueMs).toBeLessThan(inferenceMs);
  });
});
