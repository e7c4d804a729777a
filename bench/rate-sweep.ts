import type { OpenLoopResult } from './open-loop';

/** The latency bound the sustainable rate is defined by. */
export const P99_LIMIT_MS = 200;

export interface SweepOptions {
  /** Rates tried first, as fractions of `referenceRatePerS` (the closed-loop saturation rate), ascending. */
  readonly fractions?: readonly number[];
  /** Bisection steps between the highest passing and the lowest failing rate. */
  readonly refineSteps?: number;
  readonly maxPoints?: number;
  readonly minRatePerS?: number;
  readonly p99LimitMs?: number;
}

export interface SweepPoint<R extends OpenLoopResult = OpenLoopResult> {
  readonly ratePerS: number;
  readonly pass: boolean;
  readonly result: R;
}

export interface SweepResult<R extends OpenLoopResult = OpenLoopResult> {
  /** Every point in the order it was run. */
  readonly points: SweepPoint<R>[];
  /** The highest rate tried whose p99 stayed within the limit with every request answered 2xx; undefined if none did. */
  readonly sustainableRatePerS: number | undefined;
  /** The lowest rate tried that failed, if any (the sustainable rate lies below it). */
  readonly lowestFailingRatePerS: number | undefined;
  readonly p99LimitMs: number;
}

/** Open-loop rates that pass usually sit at 0.6-1.2× the closed-loop saturation rate: start at half of it. */
const DEFAULT_FRACTIONS = [0.5, 0.7, 0.85, 1.0, 1.15];
const round = (rate: number) => Math.round(rate * 10) / 10;

/** A point passes when every request of its window was answered 2xx and the p99 is within the limit. */
export const passes = (result: OpenLoopResult, p99LimitMs = P99_LIMIT_MS): boolean => !result.flagged && result.p99Ms <= p99LimitMs;

/**
 * Finds the highest open-loop rate whose p99 stays within the limit: climbs a ladder of fractions of
 * the saturation rate until a rate fails (halving below the ladder if even its first rung fails,
 * going on by ×1.25 above it if none does), then bisects between the last pass and the first failure.
 * Bounded by `maxPoints` probes.
 */
export async function sweepRates<R extends OpenLoopResult>(
  referenceRatePerS: number,
  probe: (ratePerS: number) => Promise<R>,
  options: SweepOptions = {},
): Promise<SweepResult<R>> {
  const limit = options.p99LimitMs ?? P99_LIMIT_MS;
  const maxPoints = options.maxPoints ?? 9;
  const minRate = options.minRatePerS ?? 1;
  const points: SweepPoint<R>[] = [];
  let best: number | undefined;
  let failing: number | undefined;
  const tryRate = async (ratePerS: number): Promise<boolean> => {
    const result = await probe(ratePerS);
    const pass = passes(result, limit);
    points.push({ ratePerS, pass, result });
    if (pass) best = Math.max(best ?? 0, ratePerS);
    else failing = Math.min(failing ?? Infinity, ratePerS);
    return pass;
  };
  const room = () => points.length < maxPoints;

  const ladder = [...new Set((options.fractions ?? DEFAULT_FRACTIONS).map((f) => Math.max(minRate, round(referenceRatePerS * f))))].sort((a, b) => a - b);
  for (const rate of ladder) {
    if (!room() || !(await tryRate(rate))) break;
  }
  if (best === undefined) {
    for (let rate = round((ladder[0] ?? minRate) / 2); rate >= minRate && room(); rate = round(rate / 2)) {
      if (await tryRate(rate)) break;
    }
  } else if (failing === undefined) {
    for (let rate = round(best * 1.25); room(); rate = round(rate * 1.25)) {
      if (!(await tryRate(rate))) break;
    }
  }
  for (let step = 0; step < (options.refineSteps ?? 2) && room(); step++) {
    if (best === undefined || failing === undefined) break;
    const middle = round((best + failing) / 2);
    if (middle <= best || middle >= failing || (failing - best) / best < 0.04) break;
    await tryRate(middle);
  }
  return { points, sustainableRatePerS: best, lowestFailingRatePerS: failing, p99LimitMs: limit };
}
