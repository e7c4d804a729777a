import { paddedTokens, planBatches } from '../../../../app/batching/plan';

const entries = (...lengths: number[]) => lengths.map((length, id) => ({ id, length }));

describe('planBatches', () => {
  it('keeps every batch within the row and padded-token budget', () => {
    const input = entries(...Array.from({ length: 200 }, (_, i) => 3 + ((i * 37) % 250)));
    const batches = planBatches(input, { maxBatchSize: 16, maxBatchTokens: 2048 });
    for (const batch of batches) {
      expect(batch.length).toBeLessThanOrEqual(16);
      expect(paddedTokens(batch)).toBeLessThanOrEqual(2048);
    }
    expect(batches.flat().map((e) => e.id).sort((a, b) => a - b)).toEqual(input.map((e) => e.id));
  });

  it('groups similar lengths together to cut padding', () => {
    const mixed = entries(10, 250, 12, 240, 11, 245);
    const [first, second] = planBatches(mixed, { maxBatchSize: 3, maxBatchTokens: 10_000 });
    expect(first?.map((e) => e.length)).toEqual([10, 11, 12]);
    expect(second?.map((e) => e.length)).toEqual([240, 245, 250]);
  });

  it('runs a row longer than the token budget alone rather than never', () => {
    const batches = planBatches(entries(256, 8), { maxBatchSize: 8, maxBatchTokens: 100 });
    expect(batches.map((b) => b.map((e) => e.length))).toEqual([[8], [256]]);
  });

  it('counts padded tokens as rows × longest row', () => {
    expect(paddedTokens(entries(3, 9, 5))).toBe(27);
    expect(paddedTokens([])).toBe(0);
  });
});
