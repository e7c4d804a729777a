import { MovingAverage } from '../moving-average';

/** Share of the newest run in the averages: a machine that slows down is seen within a few runs. */
const WEIGHT = 0.2;
/** Runs shorter than this say little about the cost of a token (their fixed cost dominates): they are not measured. */
const MIN_SAMPLE_MS = 25;
/**
 * Nor are runs of fewer padded tokens than this share of a bulk run, however long they took: a
 * run's fixed cost (the hand-off, starting the session's run, a wait for CPU quota of up to half a
 * 100 ms CFS period in a 0.5 vCPU task, a neighbour's burst) is then most of it. A 2-token query run
 * stalled for 100 ms read as 50 ms a token, and admission refused every request beside another on
 * that estimate until a large run corrected it (the fuzz test under load: 261 of its last 1,072
 * requests refused). Relative, not absolute, so that bulk runs, sized by the estimate, keep being
 * measured on a machine however slow.
 */
const MIN_SAMPLE_SHARE_OF_BULK_RUN = 0.5;
/** Padded tokens of a bulk run before the estimate exists, and the least it holds after (one full-length text). */
export const MIN_BULK_RUN_TOKENS = 256;
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
 * view: the larger of the average and the last run. Only runs of at least MIN_SAMPLE_MS holding at least half a
 * bulk run's tokens are measured, and the estimate exists once SAMPLES_BEFORE_TRUSTED of them have finished.
 */
export class RunCostEstimator {
  private readonly durationMs = new MovingAverage(WEIGHT);
  private readonly paddedTokens = new MovingAverage(WEIGHT);
  private lastMsPerToken = 0;
  private samples = 0;

  constructor(
    private readonly deadline: RunDeadlinePolicy,
    /** How long a bulk run should last: what `bulkRunTokens` sizes it for. */
    private readonly runTargetMs: number,
  ) {}

  record(paddedTokens: number, durationMs: number): void {
    if (!(paddedTokens >= MIN_SAMPLE_SHARE_OF_BULK_RUN * this.bulkRunTokens()) || !(durationMs >= MIN_SAMPLE_MS)) return;
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

  /**
   * Padded tokens of a bulk run: what lasts about the run target, and never less than one
   * full-length text (MIN_BULK_RUN_TOKENS, also the size until the estimate exists). Without that
   * floor a busy machine spirals: each run's fixed cost (thread hops, waits for a core) inflates the
   * cost of a token, which shrinks the next run, whose fixed cost weighs more. Measured with two
   * other processes spinning on the two cores: 100 short texts took 2.7-4.1 s in 243 runs, and
   * 1.8-2.0 s in 30 runs with the floor. In the 0.5 vCPU task a full-length text takes about 70 ms,
   * inside the run target, so there the floor does not bind.
   */
  bulkRunTokens(): number {
    return Math.max(this.tokensWithin(this.runTargetMs) ?? 0, MIN_BULK_RUN_TOKENS);
  }

  /** How long a run of this many padded tokens may take before it counts as hung. */
  deadlineMs(paddedTokens: number): number {
    return Math.max(this.deadline.minMs, Math.ceil(this.expectedMs(paddedTokens) * this.deadline.factor));
  }
}
