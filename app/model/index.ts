import { modelPath } from './layout';
import type { SessionOptions } from './onnx-model';
import { readModelSettings } from './settings';
import { loadTokenizer, type TokenizedText } from './tokenizer';
import { loadWorkerEncoder } from './worker-encoder';

export type { TokenizedText } from './tokenizer';

/** The narrow face of the model that the batcher sees: count tokens, embed a batch, close. */
export interface EmbeddingModel {
  readonly dimension: number;
  readonly maxTokens: number;
  tokenize(text: string): TokenizedText;
  embed(batch: readonly TokenizedText[]): Promise<Float32Array[]>;
  close(): Promise<void>;
}

export interface LoadModelOptions extends SessionOptions {
  readonly dir: string;
  readonly onnxFile: string;
  readonly maxCharsPerText: number;
}

export async function loadEmbeddingModel(options: LoadModelOptions): Promise<EmbeddingModel> {
  const settings = await readModelSettings(options.dir);
  const [tokenizer, encoder] = await Promise.all([
    loadTokenizer(options.dir, settings.maxSeqLength, options.maxCharsPerText),
    loadWorkerEncoder({
      file: modelPath(options.dir, options.onnxFile),
      settings,
      options: { intraOpThreads: options.intraOpThreads, cpuMemArena: options.cpuMemArena, allowSpinning: options.allowSpinning },
    }),
  ]);
  return {
    dimension: settings.dimension,
    maxTokens: settings.maxSeqLength,
    tokenize: (text) => tokenizer.tokenize(text),
    embed: (batch) => encoder.encode(batch.map((t) => t.ids)),
    close: () => encoder.release(),
  };
}
