/** What a Node caller passes to createEmbeddingClient. */
export interface EmbeddingClientOptions {
  /** The service's base URL, e.g. `http://embedding.superschedules.local:8003`. */
  readonly url: string;
  /** Budget for one request to the service, retries and their waits included (default 10 000). */
  readonly timeoutMs?: number;
  /** Texts per request; longer inputs are split and the vectors concatenated in order (default 100, the service's limit). */
  readonly maxBatch?: number;
  /** Characters per request, a text counting up to 1,200 (its first 256 tokens); default 200 per second of `timeoutMs` (2,000). */
  readonly maxBatchChars?: number;
  /** Requests of one `embed` call sent before the earlier ones have answered (default 2), so the service never waits for the next. */
  readonly maxInFlight?: number;
  /** After an outage, how long the client uses the local model before it tries the service again (default 30 000). */
  readonly recheckIntervalMs?: number;
  /** Retries of one request after a connection error, a timeout, a 429 or a 5xx (default 3), within `timeoutMs`. */
  readonly maxRetries?: number;
  /** The local model for outages, or `false` (the default) to fail with EmbeddingServiceUnavailableError instead. */
  readonly fallback?: false | LocalModelOptions;
  /** Where the switches to and from the local model are reported (default: `console`). */
  readonly logger?: ClientLogger;
}

/** This project's own pipeline run in-process: the same files as the service's EMBEDDING_MODEL_DIR, the same vectors. */
export interface LocalModelOptions {
  /** A model directory laid out like the model's public repository (see `npm run model:fetch`). */
  readonly modelDir: string;
  /** ONNX file inside the directory (default `onnx/model.onnx`, like the service). */
  readonly onnxFile?: string;
  /** onnxruntime threads for the local model (default 1: it shares the caller's CPU). */
  readonly intraOpThreads?: number;
}

/** The subset of winston's (or console's) logger the client uses; each switch is logged once. */
export interface ClientLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
}

export type ClientMode = 'service' | 'local';

export interface EmbeddingClient {
  /** One 384-dimension vector per text, in input order. */
  embed(texts: readonly string[]): Promise<Float32Array[]>;
  embedOne(text: string): Promise<Float32Array>;
  /** `local` from an outage until the service answers again. */
  readonly mode: ClientMode;
  /** Releases the local model, if one was loaded. */
  close(): Promise<void>;
}
