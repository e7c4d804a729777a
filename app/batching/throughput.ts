import { MovingAverage } from '../moving-average';

/**
 * Runs smaller than this say little about the cost of a token (a run's fixed cost dominates them),
 * and the estimate matters only under load, when runs are large.
 */
const MIN_TOKENS_PER_SAMPLE = 256;

/**
 * Measured inference cost per token (wall time over real tokens of finished runs), from which the
 * batcher estimates how long the tokens already admitted will take. It errs on the slow side: the
 * larger of a moving average and the last run, so a machine that slows down is seen at once and one
 * that speeds up only gradually. Zero until a large enough run has been measured: before that, only
 * the text limit and the expiry of requests that waited too long apply.
 */
export class ThroughputEstimate {
  private readonly average = new MovingAverage(0.1);
  private last = 0;

  record(tokens: number, durationMs: number): void {
    if (tokens < MIN_TOKENS_PER_SAMPLE || !(durationMs >= 0)) return;
    this.last = durationMs / tokens;
    this.average.add(this.last);
  }

  get msPerToken(): number {
    return Math.max(this.average.value ?? 0, this.last);
  }

  msFor(tokens: number): number {
    return tokens * this.msPerToken;
  }
}
