import { MovingAverage } from '../moving-average';

/**
 * Measured inference cost per text (a moving average over finished runs), from which the batcher
 * estimates how long the texts already admitted will take. Zero until a run has been measured:
 * before that, only the text limit and the expiry of requests that waited too long apply.
 */
export class ThroughputEstimate {
  private readonly msPerText = new MovingAverage(0.1);

  record(texts: number, durationMs: number): void {
    if (texts > 0 && durationMs >= 0) this.msPerText.add(durationMs / texts);
  }

  msFor(texts: number): number {
    return texts * (this.msPerText.value ?? 0);
  }
}
