import { inferenceThreads } from './inference-thread';
import { modelPath } from './layout';
import type { SessionOptions } from './onnx-encoder';
import { readModelSettings } from './settings';
import { DEFAULT_SUPERVISION, startSupervisor, type CloseOutcome, type InferenceHealth, type SupervisionOptions, type SupervisorEvent } from './supervisor';
import { loadTokenizer, type TokenizedText } from './tokenizer';

export type { TokenizedText } from './tokenizer';
export { ModelLoadError } from './load-error';
export { ModelSettingsError } from './settings';
export type { CloseOutcome, InferenceHealth, SupervisionOptions, SupervisorEvent } from './supervisor';

/**
 * The narrow face of the model that the rest of the service sees: count tokens, embed a batch,
 * report health, close. Worker threads, deadlines and replacements stay behind it.
 */
export interface EmbeddingModel {
  readonly dimension: number;
  readonly maxTokens: number;
  tokenize(text: string): TokenizedText;
  /** One inference run over a batch; fails past `deadlineMs` (default: the supervision's `defaultRunDeadlineMs`). */
  embed(batch: readonly TokenizedText[], deadlineMs?: number): Promise<Float32Array[]>;
  health(): InferenceHealth;
  /** Inference thread lifecycle events (replacements, deadline expiries), for logs and metrics. */
  subscribe(listener: (event: SupervisorEvent) => void): void;
  /** Bounded: resolves within a few seconds even when a run is hung. */
  close(): Promise<CloseOutcome>;
}

export interface LoadModelOptions extends SessionOptions {
  readonly dir: string;
  readonly onnxFile: string;
  readonly maxCharsPerText: number;
  readonly supervision?: Partial<SupervisionOptions>;
}

/** Reads the model directory's settings, loads the tokenizer on this thread and the session on a supervised inference thread. */
export async function loadEmbeddingModel(options: LoadModelOptions): Promise<EmbeddingModel> {
  const settings = await readModelSettings(options.dir);
  const session: SessionOptions = { intraOpThreads: options.intraOpThreads, cpuMemArena: options.cpuMemArena, allowSpinning: options.allowSpinning };
  const [tokenizer, supervisor] = await Promise.all([
    loadTokenizer(options.dir, settings.maxSeqLength, options.maxCharsPerText),
    startSupervisor(inferenceThreads({ file: modelPath(options.dir, options.onnxFile), settings, options: session }), { ...DEFAULT_SUPERVISION, ...options.supervision }),
  ]);
  return {
    dimension: settings.dimension,
    maxTokens: settings.maxSeqLength,
    tokenize: (text) => tokenizer.tokenize(text),
    embed: (batch, deadlineMs) => supervisor.run(batch.map((t) => t.ids), deadlineMs),
    health: () => supervisor.health(),
    subscribe: (listener) => supervisor.subscribe(listener),
    close: () => supervisor.close(),
  };
}
