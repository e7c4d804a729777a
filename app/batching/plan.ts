/** Limits on one inference run. Padded tokens = rows × longest row, which is what the model computes. */
export interface BatchBudget {
  readonly maxBatchSize: number;
  readonly maxBatchTokens: number;
}

export interface Sized {
  readonly length: number;
}

/**
 * Splits waiting entries into batches: sorted by length so similar lengths share a batch (less
 * padding), each batch within the budget. A row longer than the token budget still runs, alone.
 */
export function planBatches<T extends Sized>(entries: readonly T[], budget: BatchBudget): T[][] {
  const sorted = [...entries].sort((a, b) => a.length - b.length);
  const batches: T[][] = [];
  let current: T[] = [];
  for (const entry of sorted) {
    const rows = current.length + 1;
    const longest = entry.length; // sorted ascending: the newcomer is the longest
    if (current.length > 0 && (rows > budget.maxBatchSize || rows * longest > budget.maxBatchTokens)) {
      batches.push(current);
      current = [];
    }
    current.push(entry);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Rows × longest row: what the model computes for a padded batch. */
export function paddedTokens(batch: readonly Sized[]): number {
  let longest = 0;
  for (const row of batch) longest = Math.max(longest, row.length);
  return batch.length * longest;
}
