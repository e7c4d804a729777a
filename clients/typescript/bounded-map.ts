/** What bounds a boundedMap: at most `widest` calls at once, fewer while it says so. */
export interface ConcurrencyWindow {
  readonly widest: number;
  acquire(): Promise<void>;
  release(): void;
}

/**
 * `fn` over `items` within `window` (each call holds a place in it), results in input order. After a
 * failure nothing new starts; once the calls already running have settled, the first failure in
 * input order is thrown.
 */
export async function boundedMap<T, R>(items: readonly T[], window: ConcurrencyWindow, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  const failures: Array<{ readonly index: number; readonly error: unknown }> = [];
  let next = 0;
  const worker = async () => {
    for (;;) {
      await window.acquire();
      try {
        // The next item is taken only with a place in the window, so none starts after a failure.
        if (failures.length > 0 || next >= items.length) return;
        const index = next++;
        try {
          results[index] = await fn(items[index] as T);
        } catch (error) {
          failures.push({ index, error });
        }
      } finally {
        window.release();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(window.widest, items.length) }, worker));
  if (failures.length > 0) throw failures.reduce((first, failure) => (failure.index < first.index ? failure : first)).error;
  return results;
}
