import { promises as fs } from 'node:fs';
import { MODEL_FILES, modelPath } from '../layout';
import { listFiles, writeFileAtomic } from './atomic-write';
import { buildSyntheticModel, resolveSyntheticOptions } from './build-model';
import { SYNTHETIC_INT8_FILE, type SyntheticModelOptions } from './types';

/**
 * Writes a model directory laid out like the public all-MiniLM-L6-v2 repository: every file of
 * the source directory (tokenizer, configs, pooling; any `onnx/` there is skipped) plus
 * `onnx/model.onnx` and, with `int8`, SYNTHETIC_INT8_FILE. The small variant's config.json and
 * 1_Pooling/config.json describe the small architecture (hidden size = embedding dimension). Each file is written atomically (temp file + rename), and
 * running it again rewrites the same bytes.
 */
export async function writeSyntheticModel(dir: string, options: SyntheticModelOptions = {}): Promise<void> {
  const resolved = resolveSyntheticOptions(options);
  const build = await buildSyntheticModel(resolved);
  const rewritten = new Map<string, unknown>();
  if (resolved.size === 'small') {
    rewritten.set(MODEL_FILES.transformerConfig, build.config);
    const pooling = JSON.parse(await fs.readFile(modelPath(resolved.sourceDir, MODEL_FILES.poolingConfig), 'utf8')) as Record<string, unknown>;
    rewritten.set(MODEL_FILES.poolingConfig, { ...pooling, word_embedding_dimension: build.architecture.hiddenSize });
  }

  for (const file of await listFiles(resolved.sourceDir)) {
    if (file.startsWith('onnx/')) continue;
    const replacement = rewritten.get(file);
    const bytes = replacement === undefined ? await fs.readFile(modelPath(resolved.sourceDir, file)) : `${JSON.stringify(replacement, null, 2)}\n`;
    await writeFileAtomic(modelPath(dir, file), bytes);
  }
  await writeFileAtomic(modelPath(dir, MODEL_FILES.onnxModel), build.fp32);
  if (build.int8) await writeFileAtomic(modelPath(dir, SYNTHETIC_INT8_FILE), build.int8);
}
