import { DEFAULT_MAX_CHARS_PER_TEXT, DEFAULT_ONNX_FILE, importServiceModel, type EmbeddingModel } from './service-code';
import type { LocalModelOptions } from './types';

/** Rows per local inference run: bounds the memory a long input takes on the caller's machine. */
const LOCAL_BATCH = 32;

export interface LocalModel {
  embed(texts: readonly string[]): Promise<Float32Array[]>;
  /** Frees the model once the calls using it have finished; the next embed loads it again. */
  release(): Promise<void>;
}

interface Loaded {
  readonly model: Promise<EmbeddingModel>;
  inFlight: number;
  retired: boolean;
}

/**
 * This project's own pipeline (tokenizer + onnxruntime on a worker thread + mean pooling), the same
 * code and files as the service, so its vectors are the service's. Loaded on first use only: a
 * caller that never sees an outage never loads onnxruntime.
 */
export function lazyLocalModel(options: LocalModelOptions): LocalModel {
  let current: Loaded | undefined;

  const load = async (): Promise<EmbeddingModel> => {
    const { loadEmbeddingModel } = await importServiceModel();
    return loadEmbeddingModel({
      dir: options.modelDir,
      onnxFile: options.onnxFile ?? DEFAULT_ONNX_FILE,
      // The service's default: longer texts cannot survive the 256-token truncation anyway.
      maxCharsPerText: DEFAULT_MAX_CHARS_PER_TEXT,
      intraOpThreads: options.intraOpThreads ?? 1,
      cpuMemArena: false,
      allowSpinning: false,
    });
  };
  // Never throws: a model that failed to load or to close is gone either way.
  const close = async (entry: Loaded) => {
    const model = await entry.model.catch(() => undefined);
    await model?.close().catch(() => {});
  };

  return {
    async embed(texts) {
      const entry = (current ??= { model: load(), inFlight: 0, retired: false });
      entry.inFlight++;
      try {
        const model = await entry.model.catch((error: unknown) => {
          if (current === entry) current = undefined; // a failed load is tried again by the next call
          throw error;
        });
        const vectors: Float32Array[] = [];
        for (let start = 0; start < texts.length; start += LOCAL_BATCH) {
          const batch = texts.slice(start, start + LOCAL_BATCH).map((text) => model.tokenize(text));
          // Copies: each vector is a view into its whole batch's buffer.
          for (const vector of await model.embed(batch)) vectors.push(vector.slice());
        }
        return vectors;
      } finally {
        entry.inFlight--;
        if (entry.retired && entry.inFlight === 0) await close(entry);
      }
    },
    async release() {
      const entry = current;
      current = undefined;
      if (!entry) return;
      entry.retired = true;
      if (entry.inFlight === 0) await close(entry);
    },
  };
}
