import { modelPath } from './layout';
import type { SessionOptions } from './onnx-model';
import { readModelSettings } from './settings';
import { loadTokenizer, type TokenizedText } from './tokenizer';
import { DEFAULT_SUPERVISION, startSupervisedEncoder, type CloseOutcome, type SupervisionOptions, type WorkerEvent, type WorkerHealth } from './worker-encoder';

export type { TokenizedText } from './tokenizer';
export type { CloseOutcome, SupervisionOptions, WorkerEvent, WorkerHealth } from './worker-encoder';

/**
 * The narrow face of the model that the rest of the service sees: count tokens, embed a batch,
 * report health, close. Worker threads, deadlines and replacements stay behind it.
 */
export interface EmbeddingModel {
  readonly dimension: number;
  readonly maxTokens: number;
  tokenize(text: string): TokenizedText;
  embed(batch: readonly TokenizedText[]): Promise<Float32Array[]>;
  health(): WorkerHealth;
  /** Worker lifecycle events (replacements, deadline expiries), for logs and metrics. */
  subscribe(listener: (event: WorkerEvent) => void): void;
  /** Bounded: resolves within a few seconds even when a run is hung. */
  close(): Promise<CloseOutcome>;
}

export interface LoadModelOptions extends SessionOptions {
  readonly dir: string;
  readonly onnxFile: string;
  readonly maxCharsPerText: number;
  readonly supervision?: SupervisionOptions;
}

export async function loadEmbeddingModel(options: LoadModelOptions): Promise<EmbeddingModel> {
  const settings = await readModelSettings(options.dir);
  const [tokenizer, encoder] = await Promise.all([
    loadTokenizer(options.dir, settings.maxSeqLength, options.maxCharsPerText),
    startSupervisedEncoder(
      {
        file: modelPath(options.dir, options.onnxFile),
        settings,
        options: { intraOpThreads: options.intraOpThreads, cpuMemArena: options.cpuMemArena, allowSpinning: options.allowSpinning },
      },
      options.supervision ?? DEFAULT_SUPERVISION,
    ),
  ]);
  return {
    dimension: settings.dimension,
    maxTokens: settings.maxSeqLength,
    tokenize: (text) => tokenizer.tokenize(text),
    embed: (batch) => encoder.encode(batch.map((t) => t.ids)),
    health: () => encoder.health(),
    subscribe: (listener) => encoder.subscribe(listener),
    close: () => encoder.close(),
  };
}
