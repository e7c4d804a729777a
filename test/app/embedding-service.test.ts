import { Batcher } from '../../app/batching/batcher';
import { createEmbeddingService } from '../../app/embedding-service';
import { loadEmbeddingModel, type EmbeddingModel } from '../../app/model';
import { smallModelDir } from './support/models';

describe('embedding service cache', () => {
  let model: EmbeddingModel;
  beforeAll(async () => {
    model = await loadEmbeddingModel({ dir: await smallModelDir(), onnxFile: 'onnx/model.onnx', maxCharsPerText: 20_000, intraOpThreads: 1, cpuMemArena: true });
  });
  afterAll(() => model.close());

  const batcherFor = () => new Batcher(model, { maxBatchSize: 8, maxBatchTokens: 1024, maxQueuedTexts: 100, maxQueueWaitMs: 60_000 });

  it('answers repeated texts from the cache with the same vectors and no inference', async () => {
    const batcher = batcherFor();
    const service = createEmbeddingService(model, batcher, { cacheEntries: 100 });
    const first = await service.embed(['jazz night', 'farmers market']);
    expect(first.cacheHits).toBe(0);
    const runs = batcher.stats.batches;
    const second = await service.embed(['farmers market', 'jazz night']);
    expect(second.cacheHits).toBe(2);
    expect(batcher.stats.batches).toBe(runs);
    expect(Array.from(second.vectors[0] as Float32Array)).toEqual(Array.from(first.vectors[1] as Float32Array));
    expect(second.promptTokens).toBe(first.promptTokens);
  });

  it('mixes hits and misses and keeps input order', async () => {
    const service = createEmbeddingService(model, batcherFor(), { cacheEntries: 100 });
    const warm = await service.embed(['b']);
    const mixed = await service.embed(['a', 'b', 'c']);
    expect(mixed.cacheHits).toBe(1);
    expect(Array.from(mixed.vectors[1] as Float32Array)).toEqual(Array.from(warm.vectors[0] as Float32Array));
    const alone = await createEmbeddingService(model, batcherFor(), { cacheEntries: 0 }).embed(['c']);
    expect(Array.from(mixed.vectors[2] as Float32Array)).toEqual(Array.from(alone.vectors[0] as Float32Array));
  });

  it('is bounded, and off when sized 0', async () => {
    const bounded = createEmbeddingService(model, batcherFor(), { cacheEntries: 2 });
    await bounded.embed(['one', 'two', 'three']);
    expect((await bounded.embed(['one'])).cacheHits).toBe(0); // evicted, least recently used
    expect((await bounded.embed(['three'])).cacheHits).toBe(1);
    const off = createEmbeddingService(model, batcherFor(), { cacheEntries: 0 });
    await off.embed(['x']);
    expect((await off.embed(['x'])).cacheHits).toBe(0);
  });
});
