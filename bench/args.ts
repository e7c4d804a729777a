import path from 'node:path';
import { TOKENIZER_FIXTURE_DIR } from '../scripts/repo-paths';

export const PARTS = ['ours', 'peer', 'int8', 'worst', 'raw'] as const;
export type Part = (typeof PARTS)[number];

export interface BenchOptions {
  /** Measured seconds per scenario. */
  readonly durationS: number;
  /** Warm-up seconds before each measured scenario (same shape, texts not reused). */
  readonly warmupS: number;
  /** Seconds of the worst-case run. */
  readonly worstS: number;
  /** Seconds of measurement per raw (batch size, text kind) point. */
  readonly rawPointS: number;
  readonly only: ReadonlySet<Part>;
  /** Record the run: write bench/results/ (committed) and the tables in docs/performance.md. */
  readonly save: boolean;
  readonly quick: boolean;
  /** The model's tokenizer and config files, from which the synthetic model is generated. */
  readonly tokenizerDir: string;
}

export const USAGE = `usage: npm run bench -- [--duration <s>] [--quick] [--only <parts>] [--tokenizer-dir <dir>] [--save]

  --duration <s>        measured seconds per scenario (default 10; the whole run then takes about 6-7 minutes on 2 cores)
  --quick               2 s scenarios and short warm-ups, for smoke tests (numbers are not meaningful)
  --only <parts>        run only some parts, comma-separated: ${PARTS.join(', ')}
  --tokenizer-dir <dir> the model's tokenizer and config files (default: the repository's test/fixtures/all-MiniLM-L6-v2)
  --save                record the run: write bench/results/ (committed) and replace the tables between
                        <!-- bench:start --> and <!-- bench:end --> in docs/performance.md
                        (without it, results go to the ignored .cache/bench/)
  -h, --help            this text

Service variables set for the command (e.g. MAX_BATCH_TOKENS=1024 npm run bench) apply to ours, int8 and the raw limit.`;

/** A request for the usage text: not an error, the caller prints USAGE and exits 0. */
export class HelpRequested extends Error {}

export function parseArgs(argv: readonly string[]): BenchOptions {
  let duration: number | undefined;
  let quick = false;
  let save = false;
  let tokenizerDir = TOKENIZER_FIXTURE_DIR;
  let only = new Set<Part>(PARTS);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value\n${USAGE}`);
      return next;
    };
    if (arg === '--duration') {
      duration = Number(value());
      if (!(duration > 0 && duration <= 300)) throw new Error(`--duration must be in (0, 300] seconds\n${USAGE}`);
    } else if (arg === '--quick') quick = true;
    else if (arg === '--save') save = true;
    else if (arg === '--tokenizer-dir') tokenizerDir = path.resolve(value());
    else if (arg === '--only') {
      const parts = value().split(',').map((p) => p.trim()).filter(Boolean);
      const unknown = parts.filter((p) => !(PARTS as readonly string[]).includes(p));
      if (unknown.length > 0 || parts.length === 0) throw new Error(`--only: unknown part(s) ${unknown.join(', ')}\n${USAGE}`);
      only = new Set(parts as Part[]);
    } else if (arg === '--help' || arg === '-h') throw new HelpRequested(USAGE);
    else throw new Error(`unknown option ${arg}\n${USAGE}`);
  }
  const durationS = duration ?? (quick ? 2 : 10);
  return {
    durationS,
    warmupS: quick ? 0.5 : Math.min(2, Math.max(0.5, durationS / 5)),
    worstS: quick ? 6 : Math.max(10, Math.min(20, durationS * 2)),
    rawPointS: quick ? 0.3 : Math.min(1.5, Math.max(0.3, Math.round(durationS / 6 * 10) / 10)),
    only,
    save,
    quick,
    tokenizerDir,
  };
}
