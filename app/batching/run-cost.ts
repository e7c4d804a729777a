import { MovingAverage } from '../moving-average';

/** Share of the newest run in the averages: a machine that slows down is seen within a few runs. */
const WEIGHT = 0.2;
/** Runs shorter than this say little about the cost of a token (their fixed cost dominates): they are not measured. */
const MIN_SAMPLE_MS = 25;
/** Before the estimate exists, a bulk run holds about this many padded tokens (what a run measured by the old estimate held at least). */
export const UNMEASURED_RUN_TOKENS = 256;
/**
 * Runs measured before the estimate is trusted: the first runs of a fresh session pay for its
 * warm-up (allocations for each new shape), and one run alone would have admission refuse work on
 * it. Until then only the text limit and the wait bound apply, as before any run.
 */
const SAMPLES_BEFORE_TRUSTED = 3;

export interface RunDeadlinePolicy {
  /** A run's deadline is this multiple of its expected time ... */
  readonly factor: number;
  /** ... and never shorter than this, which is also the deadline until the estimate exists. */
  readonly minMs: number;
}

/**
 * What an inference run costs, measured: wall time over padded tokens (rows × longest row, what the
 * model computes) of the runs that finished, each run weighted by its size, so a run's fixed cost is
 * spread over its tokens. The one estimate behind admission (how long admitted work takes), expiry
 * (who can no longer start in time), the size of bulk runs (how many tokens fit the run target) and
 * run deadlines. Admission and expiry, which must not be caught out by a machine that suddenly
 * slows down (a flood of requests taking the HTTP thread's share, a neighbour), read the cautious
 * view: the larger of the average and the last run. Only runs of at least MIN_SAMPLE_MS are
 * measured, and the estimate exists once SAMPLES_BEFORE_TRUSTED of them have finished.
 */
export class RunCostEstimator {
  private readonly durationMs = new MovingAverage(WEIGHT);
  private readonly paddedTokens = new MovingAverage(WEIGHT);
  private lastMsPerToken = 0;
  private samples = 0;

  constructor(private readonly deadline: RunDeadlinePolicy) {}

  record(paddedTokens: number, durationMs: number): void {
    if (!(paddedTokens > 0) || !(durationMs >= MIN_SAMPLE_MS)) return;
    this.durationMs.add(durationMs);
    this.paddedTokens.add(paddedTokens);
    this.lastMsPerToken = durationMs / paddedTokens;
    this.samples++;
  }

  /** Milliseconds per padded token; undefined until enough runs have been measured. */
  get msPerToken(): number | undefined {
    const ms = this.durationMs.value;
    const tokens = this.paddedTokens.value;
    return ms === undefined || tokens === undefined || this.samples < SAMPLES_BEFORE_TRUSTED ? undefined : ms / tokens;
  }

  /** The expected time of `tokens` tokens of work; 0 until the estimate exists. */
  expectedMs(tokens: number): number {
    return tokens * (this.msPerToken ?? 0);
  }

  /** Milliseconds per padded token erring on the slow side (admission, expiry); undefined until the estimate exists. */
  get cautiousMsPerToken(): number | undefined {
    const average = this.msPerToken;
    return average === undefined ? undefined : Math.max(average, this.lastMsPerToken);
  }

  /** The time of `tokens` tokens of work erring on the slow side; 0 until the estimate exists. */
  cautiousMs(tokens: number): number {
    return tokens * (this.cautiousMsPerToken ?? 0);
  }

  /** Padded tokens a run may hold to last about `ms`; undefined until the estimate exists. */
  tokensWithin(ms: number): number | undefined {
    const msPerToken = this.msPerToken;
    return msPerToken === undefined ? undefined : msPerToken > 0 ? Math.floor(ms / msPerToken) : Number.POSITIVE_INFINITY;
  }

  /** How long a run of this many padded tokens may take before it counts as hung. */
  deadlineMs(paddedTokens: number): number {
    return Math.max(this.deadline.minMs, Math.ceil(this.expectedMs(paddedTokens) * this.deadline.factor));
  }
}
