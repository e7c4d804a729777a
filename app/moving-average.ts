/** An exponentially weighted moving average; undefined until the first sample. */
export class MovingAverage {
  private current: number | undefined;

  /** `weight`: share of the newest sample, between 0 and 1. */
  constructor(private readonly weight: number) {}

  get value(): number | undefined {
    return this.current;
  }

  add(sample: number): void {
    if (!Number.isFinite(sample)) return;
    this.current = this.current === undefined ? sample : this.current + this.weight * (sample - this.current);
  }
}
