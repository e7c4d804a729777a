import { RunCostEstimator } from '../../../../app/batching/run-cost';

describe('RunCostEstimator', () => {
  it('knows nothing until a run is measured: no expected time, no bulk run size, the deadline floor', () => {
    const cost = new RunCostEstimator({ factor: 10, minMs: 1000 });
    expect(cost.msPerToken).toBeUndefined();
    expect(cost.expectedMs(5000)).toBe(0);
    expect(cost.tokensWithin(100)).toBeUndefined();
    expect(cost.deadlineMs(2048)).toBe(1000);
  });

  it('gives the cost of a padded token, then a deadline that is a multiple of a run\'s expected time, never below the floor', () => {
    const cost = new RunCostEstimator({ factor: 10, minMs: 1000 });
    cost.record(1000, 500); // 0.5 ms a padded token
    expect(cost.msPerToken).toBe(0.5);
    expect(cost.expectedMs(2048)).toBe(1024);
    expect(cost.deadlineMs(2048)).toBe(10_240);
    expect(cost.deadlineMs(16)).toBe(1000);
    expect(cost.tokensWithin(100)).toBe(200);
  });

  it('weighs runs by their size, so the fixed cost of small runs does not dominate', () => {
    const cost = new RunCostEstimator({ factor: 10, minMs: 1 });
    cost.record(1000, 1000); // 1 ms a token
    for (let i = 0; i < 5; i++) cost.record(10, 20); // tiny runs at 2 ms a token, mostly fixed cost
    expect(cost.msPerToken).toBeGreaterThan(1);
    expect(cost.msPerToken).toBeLessThan(1.2);
  });

  it('follows a machine that slows down within a few runs', () => {
    const cost = new RunCostEstimator({ factor: 10, minMs: 1 });
    cost.record(100, 10);
    for (let i = 0; i < 20; i++) cost.record(100, 40);
    expect(cost.expectedMs(100)).toBeGreaterThan(35);
  });

  it('errs on the slow side for admission and expiry: the last run of some size counts at once', () => {
    const cost = new RunCostEstimator({ factor: 10, minMs: 1 });
    for (let i = 0; i < 10; i++) cost.record(1000, 1000);
    expect(cost.cautiousMs(100)).toBe(100);
    cost.record(1000, 3000); // the machine just slowed to 3 ms a token
    expect(cost.cautiousMsPerToken).toBe(3);
    expect(cost.msPerToken).toBeLessThan(1.5);
    cost.record(10, 100); // a tiny run (10 ms a token, mostly fixed cost) is no sign of anything
    expect(cost.cautiousMsPerToken).toBe(3);
    cost.record(1000, 1000);
    expect(cost.cautiousMsPerToken).toBeCloseTo(cost.msPerToken as number);
    expect(new RunCostEstimator({ factor: 10, minMs: 1 }).cautiousMs(100)).toBe(0);
  });

  it('ignores runs that say nothing', () => {
    const cost = new RunCostEstimator({ factor: 10, minMs: 1 });
    cost.record(0, 10);
    cost.record(10, Number.NaN);
    expect(cost.msPerToken).toBeUndefined();
  });
});
