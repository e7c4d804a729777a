import { Admission } from '../../../app/batching/admission';
import type { SchedulingEvent } from '../../../app/batching/events';
import { Scheduler } from '../../../app/batching/scheduler';
import { createEmbedder } from '../../../app/embedder';
import { loadEmbeddingModel, type EmbeddingModel } from '../../../app/model';
import { smallModelDir } from '../support/models';

describe('embedder: cache, admission, tokenising', () => {
  let model: EmbeddingModel;
  beforeAll(async () => {
    model = await loadEmbeddingModel({ dir: await smallModelDir(), onnxFile: 'onnx/model.onnx', maxCharsPerText: 20_000, intraOpThreads: 1, cpuMemArena: true });
  });
  afterAll(() => model.close());

  const options = { maxBatchSize: 8, maxBatchTokens: 1024, maxAdmittedTexts: 100, maxQueueWaitMs: 60_000, interactiveMaxTexts: 4, runTargetMs: 100, runDeadline: { factor: 10, minMs: 10_000 } };
  /** An embedder over the real model, and the runs its scheduler made. */
  const embedderFor = (cacheEntries: number) => {
    const admission = new Admission(options);
    const scheduler = new Scheduler(model, admission, options);
    const runs: SchedulingEvent[] = [];
    scheduler.subscribe((event) => event.type === 'run' && runs.push(event));
    return { embedder: createEmbedder(model, admission, scheduler, { cacheEntries }), admission, runs };
  };

  it('answers repeated texts from the cache with the same vectors and no inference', async () => {
    const { embedder, runs } = embedderFor(100);
    const first = await embedder.embed(['jazz night', 'farmers market']);
    expect(first.cacheHits).toBe(0);
    const runsBefore = runs.length;
    expect(runsBefore).toBeGreaterThan(0);
    const second = await embedder.embed(['farmers market', 'jazz night']);
    expect(second.cacheHits).toBe(2);
    expect(runs.length).toBe(runsBefore);
    expect(Array.from(second.vectors[0] as Float32Array)).toEqual(Array.from(first.vectors[1] as Float32Array));
    expect(second.promptTokens).toBe(first.promptTokens);
  });

  it('mixes hits and misses and keeps input order', async () => {
    const { embedder } = embedderFor(100);
    const warm = await embedder.embed(['b']);
    const mixed = await embedder.embed(['a', 'b', 'c']);
    expect(mixed.cacheHits).toBe(1);
    expect(Array.from(mixed.vectors[1] as Float32Array)).toEqual(Array.from(warm.vectors[0] as Float32Array));
    const alone = await embedderFor(0).embedder.embed(['c']);
    expect(Array.from(mixed.vectors[2] as Float32Array)).toEqual(Array.from(alone.vectors[0] as Float32Array));
  });

  it('is bounded, and off when sized 0', async () => {
    const bounded = embedderFor(2).embedder;
    await bounded.embed(['one', 'two', 'three']);
    expect((await bounded.embed(['one'])).cacheHits).toBe(0); // evicted, least recently used
    expect((await bounded.embed(['three'])).cacheHits).toBe(1);
    const off = embedderFor(0).embedder;
    await off.embed(['x']);
    expect((await off.embed(['x'])).cacheHits).toBe(0);
  });

  it('holds a permit while a request is under way and gives it back when it ends, failed or not', async () => {
    const { embedder, admission } = embedderFor(0);
    const pending = embedder.embed(['held while it runs']);
    expect(admission.texts).toBe(1);
    await pending;
    expect(admission.texts).toBe(0);
    const controller = new AbortController();
    controller.abort();
    await expect(embedder.embed(['a caller already gone'], controller.signal)).rejects.toMatchObject({ kind: 'client_closed' });
    expect(admission.texts).toBe(0);
  });

  it('refuses new work once cancelled for shutdown', async () => {
    const { embedder } = embedderFor(0);
    embedder.cancelAll();
    await expect(embedder.embed(['too late'])).rejects.toMatchObject({ kind: 'not_ready', message: expect.stringMatching(/shutting down/) });
  });
});
