import { MovingAverage } from '../moving-average';

export interface RunDeadlineOptions {
  /** A run's deadline is this multiple of its expected time ... */
  readonly timeoutFactor: number;
  /** ... and never shorter than this, which is also the deadline until a run has been measured. */
  readonly timeoutMinMs: number;
}

/**
 * How long an inference run may take before it counts as hung. The expected time is the run's
 * padded tokens times the measured cost of a padded token (a moving average of the runs that
 * finished), so the deadline follows the machine: a slow 0.5-vCPU task gets longer deadlines.
 */
export class RunDeadline {
  private readonly msPerToken = new MovingAverage(0.2);

  constructor(private readonly options: RunDeadlineOptions) {}

  /** The expected duration of a run of this many padded tokens, once runs have been measured. */
  expectedMs(paddedTokens: number): number | undefined {
    const msPerToken = this.msPerToken.value;
    return msPerToken === undefined ? undefined : msPerToken * paddedTokens;
  }

  deadlineMs(paddedTokens: number): number {
    const expected = this.expectedMs(paddedTokens);
    return Math.max(this.options.timeoutMinMs, Math.ceil((expected ?? 0) * this.options.timeoutFactor));
  }

  record(paddedTokens: number, durationMs: number): void {
    if (paddedTokens > 0 && durationMs >= 0) this.msPerToken.add(durationMs / paddedTokens);
  }
}

/** Rows × longest row: what the model computes for a padded batch. */
export function paddedTokenCount(batch: ReadonlyArray<{ readonly length: number }>): number {
  let longest = 0;
  for (const row of batch) longest = Math.max(longest, row.length);
  return batch.length * longest;
}
