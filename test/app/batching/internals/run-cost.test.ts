import { RunCostEstimator } from '../../../../app/batching/run-cost';

describe('RunCostEstimator', () => {
  const RUN_TARGET_MS = 100;
  /** `count` runs of `tokens` padded tokens taking `ms` each. */
  const runs = (cost: RunCostEstimator, count: number, tokens: number, ms: number) => {
    for (let i = 0; i < count; i++) cost.record(tokens, ms);
  };

  it('knows nothing until three runs are measured: no expected time, no run size, the deadline floor', () => {
    const cost = new RunCostEstimator({ factor: 10, minMs: 1000 }, RUN_TARGET_MS);
    expect(cost.msPerToken).toBeUndefined();
    expect(cost.expectedMs(5000)).toBe(0);
    expect(cost.tokensWithin(100)).toBeUndefined();
    expect(cost.deadlineMs(2048)).toBe(1000);
    runs(cost, 2, 1000, 500); // a fresh session's first runs pay for its warm-up: not trusted alone
    expect(cost.msPerToken).toBeUndefined();
    expect(cost.cautiousMs(100)).toBe(0);
    runs(cost, 1, 1000, 500);
    expect(cost.msPerToken).toBe(0.5);
  });

  it('gives the cost of a padded token, then a deadline that is a multiple of a run\'s expected time, never below the floor', () => {
    const cost = new RunCostEstimator({ factor: 10, minMs: 1000 }, RUN_TARGET_MS);
    runs(cost, 3, 1000, 500); // 0.5 ms a padded token
    expect(cost.expectedMs(2048)).toBe(1024);
    expect(cost.deadlineMs(2048)).toBe(10_240);
    expect(cost.deadlineMs(16)).toBe(1000);
    expect(cost.tokensWithin(100)).toBe(200);
  });

  it('weighs runs by their size, and ignores runs too short or too small to say anything (their fixed cost dominates)', () => {
    const cost = new RunCostEstimator({ factor: 10, minMs: 1 }, 1000); // bulk runs of 1,000 tokens once measured
    runs(cost, 3, 4000, 4000); // 1 ms a token
    runs(cost, 5, 10, 20); // 2 ms a token, mostly fixed cost, and too short to count
    expect(cost.msPerToken).toBe(1);
    runs(cost, 5, 400, 4000); // 10 ms a token, but under half a bulk run: not a measure of a token
    expect(cost.msPerToken).toBe(1);
    runs(cost, 2, 600, 900); // 1.5 ms a token, smaller: weighed by its size
    expect(cost.msPerToken).toBeGreaterThan(1);
    expect(cost.msPerToken).toBeLessThan(1.05);
  });

  it('is not moved by a few-token run that stalled: a query run waiting 100 ms for CPU is not 50 ms a token', () => {
    const cost = new RunCostEstimator({ factor: 10, minMs: 1 }, RUN_TARGET_MS);
    runs(cost, 3, 1000, 300); // bulk runs of 333 tokens from now on
    expect(cost.bulkRunTokens()).toBe(333);
    cost.record(2, 100);
    cost.record(40, 400);
    expect(cost.msPerToken).toBeCloseTo(0.3);
    expect(cost.cautiousMsPerToken).toBeCloseTo(0.3);
  });

  it('follows a machine that slows down within a few runs', () => {
    const cost = new RunCostEstimator({ factor: 10, minMs: 1 }, RUN_TARGET_MS);
    runs(cost, 3, 300, 90);
    runs(cost, 20, 300, 360);
    expect(cost.expectedMs(100)).toBeGreaterThan(110);
  });

  it('errs on the slow side for admission and expiry: the last run counts at once', () => {
    const cost = new RunCostEstimator({ factor: 10, minMs: 1 }, RUN_TARGET_MS);
    runs(cost, 10, 1000, 1000);
    expect(cost.cautiousMs(100)).toBe(100);
    cost.record(1000, 3000); // the machine just slowed to 3 ms a token
    expect(cost.cautiousMsPerToken).toBe(3);
    expect(cost.msPerToken).toBeLessThan(1.5);
    cost.record(10, 20); // too short to be a sign of anything
    expect(cost.cautiousMsPerToken).toBe(3);
    cost.record(1000, 1000);
    expect(cost.cautiousMsPerToken).toBeCloseTo(cost.msPerToken as number);
  });

  it('ignores runs that say nothing', () => {
    const cost = new RunCostEstimator({ factor: 10, minMs: 1 }, RUN_TARGET_MS);
    cost.record(0, 100);
    cost.record(10, Number.NaN);
    runs(cost, 3, 0, 100);
    expect(cost.msPerToken).toBeUndefined();
  });
});
