import { loadConfig, serviceVariables } from '../app/config';
import { DEFAULT_ONNX_FILE } from '../app/defaults';
import { loadEmbeddingModel, type EmbeddingModel } from '../app/model';
import { quantile } from './load';
import { TextStream, type TextKind } from './texts';

/**
 * The raw limit: tokenise + onnxruntime run + mean pool + normalise in one process, no HTTP,
 * through the service's own `loadEmbeddingModel` with the service's default session options.
 * Runs as its own child process (`node dist/bench/raw.js <modelDir> [secondsPerPoint] [onnxFile]`)
 * so no server shares the CPU; prints one JSON line.
 */
export const RAW_BATCH_SIZES = [1, 8, 16, 32, 64, 128] as const;
const RAW_KINDS: readonly TextKind[] = ['short', 'medium'];

export interface RawPoint {
  readonly kind: TextKind;
  readonly batchSize: number;
  readonly calls: number;
  readonly textsPerS: number;
  readonly p50Ms: number;
}

export interface RawResult {
  readonly onnxFile: string;
  readonly intraOpThreads: number;
  readonly cpuMemArena: boolean;
  readonly points: RawPoint[];
  /** Per kind: the best texts/s over batch sizes, and the batch-1 median (the single-text latency). */
  readonly best: Record<string, { textsPerS: number; batchSize: number; singleTextP50Ms: number }>;
}

async function measurePoint(model: EmbeddingModel, texts: TextStream, batchSize: number, seconds: number): Promise<RawPoint> {
  const call = async () => {
    const batch = texts.take(batchSize);
    const start = performance.now();
    await model.embed(batch.map((t) => model.tokenize(t)));
    return performance.now() - start;
  };
  for (let i = 0; i < 2; i++) await call(); // warm-up: first runs of a new shape allocate
  const times: number[] = [];
  let busy = 0;
  while (busy < seconds * 1000 || times.length < 3) {
    const ms = await call();
    times.push(ms);
    busy += ms;
  }
  times.sort((a, b) => a - b);
  return { kind: texts.kind, batchSize, calls: times.length, textsPerS: (times.length * batchSize) / (busy / 1000), p50Ms: quantile(times, 0.5) };
}

export async function measureRaw(modelDir: string, secondsPerPoint: number, onnxFile: string): Promise<RawResult> {
  // The service's settings, as `npm run bench` was given them (e.g. ORT_ALLOW_SPINNING=false), passed the way app/prepare-model.ts passes them.
  const config = loadConfig(serviceVariables(process.env));
  const model = await loadEmbeddingModel({ dir: modelDir, onnxFile, maxCharsPerText: config.tokenizer.maxCharsPerText, ...config.session });
  try {
    const points: RawPoint[] = [];
    const best: RawResult['best'] = {};
    for (const [k, kind] of RAW_KINDS.entries()) {
      // Its own range of texts, away from the ones the servers are sent.
      const texts = new TextStream(kind, 9_000_000 + k * 1_000_000);
      for (const batchSize of RAW_BATCH_SIZES) points.push(await measurePoint(model, texts, batchSize, secondsPerPoint));
      const mine = points.filter((p) => p.kind === kind);
      const top = mine.reduce((a, b) => (b.textsPerS > a.textsPerS ? b : a));
      best[kind] = { textsPerS: top.textsPerS, batchSize: top.batchSize, singleTextP50Ms: mine.find((p) => p.batchSize === 1)?.p50Ms ?? NaN };
    }
    return { onnxFile, intraOpThreads: config.session.intraOpThreads, cpuMemArena: config.session.cpuMemArena, points, best };
  } finally {
    await model.close();
  }
}

if (require.main === module) {
  const [modelDir, seconds, onnxFile] = process.argv.slice(2);
  if (!modelDir) {
    process.stderr.write('usage: node dist/bench/raw.js <modelDir> [secondsPerPoint] [onnxFile]\n');
    process.exit(2);
  }
  measureRaw(modelDir, Number(seconds ?? 1.5), onnxFile ?? DEFAULT_ONNX_FILE).then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
    (error: unknown) => {
      process.stderr.write(`raw: ${(error as Error)?.stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
