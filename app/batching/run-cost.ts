import { MovingAverage } from '../moving-average';

/** Share of the newest run in the averages: a machine that slows down is seen within a few runs. */
const WEIGHT = 0.2;
/** Runs smaller than this say little about the cost of a token on their own (their fixed cost dominates). */
const MIN_TOKENS_OF_A_SAMPLE = 128;

export interface RunDeadlinePolicy {
  /** A run's deadline is this multiple of its expected time ... */
  readonly factor: number;
  /** ... and never shorter than this, which is also the deadline until a run has been measured. */
  readonly minMs: number;
}

/**
 * What an inference run costs, measured: wall time over padded tokens (rows × longest row, what the
 * model computes) of the runs that finished, each run weighted by its size, so a run's fixed cost is
 * spread over its tokens. The one estimate behind admission (how long admitted work takes), expiry
 * (who can no longer start in time), the size of bulk runs (how many tokens fit the run target) and
 * run deadlines. Admission and expiry, which must not be caught out by a machine that suddenly
 * slows down (a flood of requests taking the HTTP thread's share, a neighbour), read the cautious
 * view: the larger of the average and the last run of some size. Unmeasured until the first run has
 * finished: then admission and expiry count on the text limit and the wait bound alone, and a bulk
 * run holds one text.
 */
export class RunCostEstimator {
  private readonly durationMs = new MovingAverage(WEIGHT);
  private readonly paddedTokens = new MovingAverage(WEIGHT);
  private lastMsPerToken = 0;

  constructor(private readonly deadline: RunDeadlinePolicy) {}

  record(paddedTokens: number, durationMs: number): void {
    if (!(paddedTokens > 0) || !(durationMs >= 0)) return;
    this.durationMs.add(durationMs);
    this.paddedTokens.add(paddedTokens);
    if (paddedTokens >= MIN_TOKENS_OF_A_SAMPLE) this.lastMsPerToken = durationMs / paddedTokens;
  }

  /** Milliseconds per padded token; undefined until a run has been measured. */
  get msPerToken(): number | undefined {
    const ms = this.durationMs.value;
    const tokens = this.paddedTokens.value;
    return ms === undefined || tokens === undefined ? undefined : ms / tokens;
  }

  /** The expected time of `tokens` tokens of work; 0 until a run has been measured. */
  expectedMs(tokens: number): number {
    return tokens * (this.msPerToken ?? 0);
  }

  /** Milliseconds per padded token erring on the slow side (admission, expiry); undefined until a run has been measured. */
  get cautiousMsPerToken(): number | undefined {
    const average = this.msPerToken;
    return average === undefined ? undefined : Math.max(average, this.lastMsPerToken);
  }

  /** The time of `tokens` tokens of work erring on the slow side; 0 until a run has been measured. */
  cautiousMs(tokens: number): number {
    return tokens * (this.cautiousMsPerToken ?? 0);
  }

  /** Padded tokens a run may hold to last about `ms`; undefined until a run has been measured. */
  tokensWithin(ms: number): number | undefined {
    const msPerToken = this.msPerToken;
    return msPerToken === undefined ? undefined : msPerToken > 0 ? Math.floor(ms / msPerToken) : Number.POSITIVE_INFINITY;
  }

  /** How long a run of this many padded tokens may take before it counts as hung. */
  deadlineMs(paddedTokens: number): number {
    return Math.max(this.deadline.minMs, Math.ceil(this.expectedMs(paddedTokens) * this.deadline.factor));
  }
}
