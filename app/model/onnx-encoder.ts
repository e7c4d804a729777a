import * as ort from 'onnxruntime-node';
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

export async function loadOnnxEncoder(file: string, settings: ModelSettings, options: SessionOptions): Promise<OnnxEncoder> {
  const session = await ort.InferenceSession.create(file, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: options.intraOpThreads,
    interOpNumThreads: 1,
    enableCpuMemArena: options.cpuMemArena,
    extra: { session: { intra_op: { allow_spinning: options.allowSpinning === false ? '0' : '1' }, force_spinning_stop: '1' } },
    ...(options.optimizedModelFilePath ? { optimizedModelFilePath: options.optimizedModelFilePath } : {}),
  });
  for (const name of REQUIRED_INPUTS) {
    if (!session.inputNames.includes(name)) throw new Error(`${file}: model has no input "${name}"`);
  }
  if (!session.outputNames.includes(OUTPUT)) throw new Error(`${file}: model has no output "${OUTPUT}"`);
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
