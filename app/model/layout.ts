import path from 'node:path';
import { DEFAULT_ONNX_FILE } from '../defaults';

/**
 * Files of a sentence-transformers model directory, laid out as the model's public
 * repository is (sentence-transformers/all-MiniLM-L6-v2). Paths are relative to the directory.
 */
export const MODEL_FILES = {
  onnxModel: DEFAULT_ONNX_FILE,
  tokenizer: 'tokenizer.json',
  tokenizerConfig: 'tokenizer_config.json',
  specialTokensMap: 'special_tokens_map.json',
  vocab: 'vocab.txt',
  transformerConfig: 'config.json',
  sentenceTransformersConfig: 'config_sentence_transformers.json',
  sentenceBertConfig: 'sentence_bert_config.json',
  modules: 'modules.json',
  poolingConfig: '1_Pooling/config.json',
} as const;

/** The files without which the service cannot load a model (besides the ONNX file chosen). */
export const REQUIRED_FILES: readonly string[] = [
  MODEL_FILES.tokenizer,
  MODEL_FILES.tokenizerConfig,
  MODEL_FILES.transformerConfig,
  MODEL_FILES.sentenceBertConfig,
  MODEL_FILES.modules,
  MODEL_FILES.poolingConfig,
];

export function modelPath(dir: string, relative: string): string {
  return path.join(dir, ...relative.split('/'));
}
