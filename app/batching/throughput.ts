import { MovingAverage } from '../moving-average';

/**
 * Measured inference cost per token (wall time over real tokens of finished runs), from which the
 * batcher estimates how long the tokens already admitted will take. It errs on the slow side: the
 * larger of a moving average and the last run, so a machine that slows down is seen at once and one
 * that speeds up only gradually. Zero until a run has been measured: before that, only the text
 * limit and the expiry of requests that waited too long apply.
 */
export class ThroughputEstimate {
  private readonly average = new MovingAverage(0.1);
  private last = 0;

  record(tokens: number, durationMs: number): void {
    if (tokens <= 0 || !(durationMs >= 0)) return;
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
