import * as ort from 'onnxruntime-node';
import { ModelLoadError } from './load-error';
import { meanPool } from './pooling';
import type { ModelSettings } from './settings';

export interface SessionOptions {
  readonly intraOpThreads: number;
  readonly cpuMemArena: boolean;
  /**
   * Let idle intra-op threads spin-wait for work within a run (faster parallel sections). They
   * stop spinning when a run ends (onnxruntime's `session.force_spinning_stop`), so that between
   * runs the cores go to the HTTP thread, not to a thread waiting for the next run.
   */
  readonly allowSpinning?: boolean;
  /** Write the graph after onnxruntime's optimisations here (to inspect which fusions it applied). */
  readonly optimizedModelFilePath?: string;
}

/** The onnxruntime session and pooling: one run over a batch of token id sequences gives one sentence vector per sequence. */
export interface OnnxEncoder {
  readonly dimension: number;
  run(batch: ReadonlyArray<ArrayLike<number>>): Promise<Float32Array[]>;
  release(): Promise<void>;
}

const REQUIRED_INPUTS = ['input_ids', 'attention_mask'] as const;
const OUTPUT = 'last_hidden_state';

/** Why the session cannot serve this model directory (its inputs, output or width), or undefined. */
function sessionMismatch(session: ort.InferenceSession, settings: ModelSettings): string | undefined {
  const missing = REQUIRED_INPUTS.filter((name) => !session.inputNames.includes(name));
  if (missing.length > 0) return `it has no input ${missing.map((name) => `"${name}"`).join(' or ')} (inputs: ${session.inputNames.join(', ')}); it is not a BERT encoder`;
  if (!session.outputNames.includes(OUTPUT)) return `it has no output "${OUTPUT}" (outputs: ${session.outputNames.join(', ')}); it is not a BERT encoder`;
  const output = session.outputMetadata.find((meta) => meta.name === OUTPUT);
  const width = output?.isTensor ? output.shape.at(-1) : undefined;
  if (typeof width === 'number' && width !== settings.dimension) {
    return `its ${OUTPUT} has ${width} values per token, but the directory's 1_Pooling/config.json says ${settings.dimension}: the ONNX file and the config files are of different models`;
  }
  return undefined;
}

function createSession(file: string, options: SessionOptions): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(file, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: options.intraOpThreads,
    interOpNumThreads: 1,
    enableCpuMemArena: options.cpuMemArena,
    extra: { session: { intra_op: { allow_spinning: options.allowSpinning === false ? '0' : '1' }, force_spinning_stop: '1' } },
    ...(options.optimizedModelFilePath ? { optimizedModelFilePath: options.optimizedModelFilePath } : {}),
  });
}

export async function loadOnnxEncoder(file: string, settings: ModelSettings, options: SessionOptions): Promise<OnnxEncoder> {
  const session = await createSession(file, options);
  const mismatch = sessionMismatch(session, settings);
  if (mismatch !== undefined) {
    await session.release();
    throw new ModelLoadError(`${file}: ${mismatch}`);
  }
  const wantsTokenTypes = session.inputNames.includes('token_type_ids');

  return {
    dimension: settings.dimension,
    async run(batch) {
      if (batch.length === 0) return [];
      const lengths = batch.map((ids) => ids.length);
      const seqLen = Math.max(...lengths);
      const size = batch.length * seqLen;
      const inputIds = new BigInt64Array(size);
      const mask = new BigInt64Array(size);
      batch.forEach((ids, row) => {
        const offset = row * seqLen;
        for (let t = 0; t < ids.length; t++) {
          inputIds[offset + t] = BigInt(ids[t] as number);
          mask[offset + t] = 1n;
        }
      });
      const dims = [batch.length, seqLen];
      const feeds: Record<string, ort.Tensor> = {
        input_ids: new ort.Tensor('int64', inputIds, dims),
        attention_mask: new ort.Tensor('int64', mask, dims),
      };
      if (wantsTokenTypes) feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(size), dims);

      const output = (await session.run(feeds, [OUTPUT]))[OUTPUT];
      if (!output) throw new Error(`inference returned no ${OUTPUT}`);
      try {
        const [, , dim] = output.dims;
        if (dim !== settings.dimension) throw new Error(`model returned dimension ${dim}, expected ${settings.dimension}`);
        return meanPool(output.data as Float32Array, lengths, seqLen, settings.dimension, settings.normalize);
      } finally {
        output.dispose();
      }
    },
    release: () => session.release(),
  };
}
