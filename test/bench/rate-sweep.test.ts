import type { OpenLoopResult } from '../../bench/open-loop';
import { passes, sweepRates } from '../../bench/rate-sweep';

/** An open-loop result with the given p99 (the rest filled in plausibly). */
function result(ratePerS: number, p99Ms: number, flagged = false): OpenLoopResult {
  return {
    arrivals: 'poisson', targetRatePerS: ratePerS, offeredRatePerS: ratePerS, durationS: 5, textsPerRequest: 1, requests: ratePerS * 5,
    ok: flagged ? 0 : ratePerS * 5, textsPerS: ratePerS, p50Ms: p99Ms / 3, p90Ms: p99Ms / 2, p99Ms, maxMs: p99Ms, serviceP99Ms: p99Ms,
    sendLagP99Ms: 1, non2xx: flagged ? 1 : 0, errors: 0, timeouts: 0, maxInFlight: 4, answeredTotal: ratePerS * 5, flagged,
  };
}

/** A server of the given capacity: p99 = 20 ms / (1 - utilisation), unbounded at or above capacity. */
const queueLike = (capacity: number) => async (rate: number) => result(rate, rate >= capacity ? 5000 : 20 / (1 - rate / capacity));

describe('rate sweep', () => {
  it('a point passes only with every request answered and p99 within the limit', () => {
    expect(passes(result(10, 199))).toBe(true);
    expect(passes(result(10, 201))).toBe(false);
    expect(passes(result(10, 50, true))).toBe(false);
  });

  it('climbs the ladder to the first failure, then bisects: the answer is within a few % of the true limit', async () => {
    // p99 = 200 ms at utilisation 0.9: the sustainable rate of a 95/s server is 85.5/s.
    const tried: number[] = [];
    const sweep = await sweepRates(100, async (rate) => (tried.push(rate), queueLike(95)(rate)), { refineSteps: 3 });
    expect(tried.slice(0, 3)).toEqual([50, 70, 85]);
    expect(tried[3]).toBeGreaterThan(85); // then bisection between 85 (pass) and 100 (fail)
    expect(sweep.sustainableRatePerS).toBeGreaterThanOrEqual(82);
    expect(sweep.sustainableRatePerS).toBeLessThanOrEqual(85.5);
    expect(sweep.lowestFailingRatePerS).toBeGreaterThan(sweep.sustainableRatePerS!);
    expect(sweep.points.every((p) => p.pass === p.ratePerS <= 85.5)).toBe(true);
  });

  it('goes below the ladder when even its first rate fails', async () => {
    const sweep = await sweepRates(100, queueLike(20), { refineSteps: 0 });
    expect(sweep.points.map((p) => p.ratePerS)).toEqual([50, 25, 12.5]);
    expect(sweep.sustainableRatePerS).toBe(12.5);
  });

  it('goes above the ladder when every rate of it passes (closed-loop saturation underestimated the server)', async () => {
    const sweep = await sweepRates(100, queueLike(200), { refineSteps: 0 });
    expect(sweep.points.map((p) => p.ratePerS)).toEqual([50, 70, 85, 100, 115, 143.8, 179.8, 224.8]);
    expect(sweep.sustainableRatePerS).toBe(179.8);
  });

  it('stays within its point budget, and says so when nothing passes', async () => {
    let calls = 0;
    const sweep = await sweepRates(50, async (rate) => (calls++, result(rate, 1000)), { maxPoints: 4, minRatePerS: 0.5 });
    expect(calls).toBe(4);
    expect(sweep.sustainableRatePerS).toBeUndefined();
    expect(sweep.lowestFailingRatePerS).toBeDefined();
  });
});
