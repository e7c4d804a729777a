import path from 'node:path';
import { TOKENIZER_FIXTURE_DIR } from '../scripts/repo-paths';
import { parseTaskShape, type TaskShape } from './production';
import type { TextKind } from './texts';

export const PARTS = ['ours', 'quiet', 'peer', 'int8', 'worst', 'raw', 'task', 'mixed'] as const;
export type Part = (typeof PARTS)[number];
/** What a run without --only measures: every part but the mixed traffic, which is asked for by name (it takes minutes of its own). */
export const DEFAULT_PARTS: readonly Part[] = PARTS.filter((part) => part !== 'mixed');

export interface BenchOptions {
  /** Measured seconds per scenario. */
  readonly durationS: number;
  /** Warm-up seconds before each measured scenario (same shape, texts not reused). */
  readonly warmupS: number;
  /** Seconds of the worst-case run. */
  readonly worstS: number;
  /** Seconds of measurement per raw (batch size, text kind) point. */
  readonly rawPointS: number;
  /** Task shape: measured seconds of the closed-loop saturation run, per text kind. */
  readonly taskSaturationS: number;
  /** Task shape: measured seconds per open-loop rate, and the seconds sent before them at the same rate. */
  readonly taskPointS: number;
  readonly taskSettleS: number;
  /** The task size for the task-shape and mixed parts; undefined: the production stack's (Pulumi.prod.yaml). */
  readonly taskShape?: TaskShape;
  /** Mixed part: texts each case re-indexes, and their kind. */
  readonly mixedTexts: number;
  readonly mixedKind: TextKind;
  readonly only: ReadonlySet<Part>;
  /** Record the run: write bench/results/ (committed) and the tables in docs/performance.md. */
  readonly save: boolean;
  readonly quick: boolean;
  /** The model's tokenizer and config files, from which the synthetic model is generated. */
  readonly tokenizerDir: string;
}

export const USAGE = `usage: npm run bench -- [--duration <s>] [--quick] [--only <parts>] [--task-shape <cpu>/<memory>] [--mixed-texts <n>] [--mixed-kind <kind>] [--tokenizer-dir <dir>] [--save]

  --duration <s>        measured seconds per scenario (default 10; the whole run then takes about 12 minutes on 2 cores)
  --quick               2 s scenarios and short warm-ups, for smoke tests (numbers are not meaningful)
  --only <parts>        run only some parts, comma-separated: ${PARTS.join(', ')}
                        (ours: production configuration; quiet: tracing off, LOG_LEVEL=warn; task: the task shape;
                        mixed: a bulk re-index through the Python client beside queries at 4/s, in the task shape,
                        only when named: --only mixed)
  --task-shape <c>/<m>  the task size for the task and mixed parts, in Fargate CPU units and MiB, e.g. 512/1024
                        (default: embedding:cpu/memory of Pulumi.prod.yaml); adds the task part to --only unless
                        --only names mixed
  --mixed-texts <n>     texts each case of the mixed part re-indexes (default 2000, as the issue's re-index; --quick 40)
  --mixed-kind <kind>   what they are: medium (event descriptions, ~64 tokens; the default) or long (~313, truncated at 256)
  --tokenizer-dir <dir> the model's tokenizer and config files (default: the repository's test/fixtures/all-MiniLM-L6-v2)
  --save                record the run: write bench/results/ (committed) and replace the tables between
                        <!-- bench:start --> and <!-- bench:end --> in docs/performance.md
                        (without it, results go to the ignored .cache/bench/)
  -h, --help            this text

Service variables set for the command (e.g. MAX_BATCH_TOKENS=1024 npm run bench) apply to ours, quiet, int8 and the raw limit.
The task part needs root on Linux with cgroup v1 or v2 cpu and memory controllers; elsewhere it says why and is skipped.`;

/** A request for the usage text: not an error, the caller prints USAGE and exits 0. */
export class HelpRequested extends Error {}

const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));

export function parseArgs(argv: readonly string[]): BenchOptions {
  let duration: number | undefined;
  let quick = false;
  let save = false;
  let tokenizerDir = TOKENIZER_FIXTURE_DIR;
  let only = new Set<Part>(DEFAULT_PARTS);
  let taskShape: TaskShape | undefined;
  let mixedTexts: number | undefined;
  let mixedKind: TextKind = 'medium';
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
    else if (arg === '--task-shape') taskShape = parseTaskShape(value());
    else if (arg === '--mixed-kind') {
      const kind = value();
      if (kind !== 'medium' && kind !== 'long') throw new Error(`--mixed-kind must be medium or long\n${USAGE}`);
      mixedKind = kind;
    } else if (arg === '--mixed-texts') {
      mixedTexts = Number(value());
      if (!(Number.isInteger(mixedTexts) && mixedTexts >= 2 && mixedTexts <= 100_000)) throw new Error(`--mixed-texts must be an integer in [2, 100000]\n${USAGE}`);
    }
    else if (arg === '--only') {
      const parts = value().split(',').map((p) => p.trim()).filter(Boolean);
      const unknown = parts.filter((p) => !(PARTS as readonly string[]).includes(p));
      if (unknown.length > 0 || parts.length === 0) throw new Error(`--only: unknown part(s) ${unknown.join(', ')}\n${USAGE}`);
      only = new Set(parts as Part[]);
    } else if (arg === '--help' || arg === '-h') throw new HelpRequested(USAGE);
    else throw new Error(`unknown option ${arg}\n${USAGE}`);
  }
  if (taskShape && !only.has('mixed')) only.add('task');
  const durationS = duration ?? (quick ? 2 : 10);
  return {
    durationS,
    warmupS: quick ? 0.5 : clamp(durationS / 5, 0.5, 2),
    worstS: quick ? 6 : clamp(durationS * 2, 10, 20),
    rawPointS: quick ? 0.3 : clamp(Math.round((durationS / 6) * 10) / 10, 0.3, 1.5),
    taskSaturationS: quick ? 2 : clamp(durationS * 0.6, 2, 6),
    taskPointS: quick ? 1.5 : clamp(durationS * 0.4, 1.5, 4),
    taskSettleS: quick ? 0.3 : clamp(durationS / 10, 0.3, 1),
    ...(taskShape ? { taskShape } : {}),
    mixedTexts: mixedTexts ?? (quick ? 40 : 2000),
    mixedKind,
    only,
    save,
    quick,
    tokenizerDir,
  };
}
