import fs from 'node:fs/promises';
import { MODEL_FILES, modelPath } from './layout';

/** What sentence-transformers' modules.json + config files say the pipeline after the transformer is. */
export interface ModelSettings {
  readonly maxSeqLength: number;
  readonly dimension: number;
  readonly pooling: 'mean';
  readonly normalize: boolean;
}

interface PoolingConfig {
  word_embedding_dimension?: number;
  pooling_mode_mean_tokens?: boolean;
  pooling_mode_cls_token?: boolean;
  pooling_mode_max_tokens?: boolean;
  pooling_mode_mean_sqrt_len_tokens?: boolean;
}

interface ModuleEntry {
  type?: string;
}

export class ModelSettingsError extends Error {
  override name = 'ModelSettingsError';
}

/** A JSON file of the model directory; any failure to read or parse it is a ModelSettingsError naming the file. */
export async function readJson<T>(dir: string, relative: string): Promise<T> {
  const file = modelPath(dir, relative);
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T;
  } catch (error) {
    throw new ModelSettingsError(`cannot read ${file}: ${(error as Error).message}`);
  }
}

/** Reads max_seq_length, pooling mode and normalisation from the model directory (never hard-coded). */
export async function readModelSettings(dir: string): Promise<ModelSettings> {
  const [sbert, pooling, modules, transformer] = await Promise.all([
    readJson<{ max_seq_length?: number }>(dir, MODEL_FILES.sentenceBertConfig),
    readJson<PoolingConfig>(dir, MODEL_FILES.poolingConfig),
    readJson<ModuleEntry[]>(dir, MODEL_FILES.modules),
    readJson<{ hidden_size?: number; max_position_embeddings?: number }>(dir, MODEL_FILES.transformerConfig),
  ]);

  const maxSeqLength = sbert.max_seq_length;
  if (!Number.isInteger(maxSeqLength) || (maxSeqLength as number) < 2) {
    throw new ModelSettingsError(`${MODEL_FILES.sentenceBertConfig}: max_seq_length must be an integer >= 2`);
  }
  if (transformer.max_position_embeddings !== undefined && (maxSeqLength as number) > transformer.max_position_embeddings) {
    throw new ModelSettingsError('max_seq_length exceeds the model max_position_embeddings');
  }
  const otherModes = pooling.pooling_mode_cls_token || pooling.pooling_mode_max_tokens || pooling.pooling_mode_mean_sqrt_len_tokens;
  if (!pooling.pooling_mode_mean_tokens || otherModes) {
    throw new ModelSettingsError(`${MODEL_FILES.poolingConfig}: only mean pooling is supported`);
  }
  const dimension = pooling.word_embedding_dimension ?? transformer.hidden_size;
  if (!Number.isInteger(dimension) || (dimension as number) <= 0) {
    throw new ModelSettingsError(`${MODEL_FILES.poolingConfig}: word_embedding_dimension missing`);
  }
  const normalize = modules.some((m) => m.type === 'sentence_transformers.models.Normalize');
  return { maxSeqLength: maxSeqLength as number, dimension: dimension as number, pooling: 'mean', normalize };
}
