import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { MODEL_FILES, modelPath } from '../../app/model/layout';
import { writeFileAtomic } from './atomic-write';
import { buildSyntheticModel, resolveSyntheticOptions } from './build-model';
import { SYNTHETIC_INT8_FILE, type SyntheticModelOptions } from './types';

/** The tokenizer and config files a model directory holds besides its ONNX files. */
const COPIED_FILES: readonly string[] = Object.values(MODEL_FILES).filter((file) => !file.startsWith('onnx/'));
/** Not every copy of the model has it, and nothing reads it. */
const OPTIONAL_FILES: ReadonlySet<string> = new Set([MODEL_FILES.sentenceTransformersConfig]);

/**
 * Writes a model directory laid out like the public all-MiniLM-L6-v2 repository: the tokenizer and
 * config files of `tokenizerDir` (only those a model directory holds, so a LICENSE or notes beside
 * them stay behind) plus `onnx/model.onnx` and, with `int8`, SYNTHETIC_INT8_FILE. The small
 * variant's config.json and 1_Pooling/config.json describe the small architecture (hidden size =
 * embedding dimension). Each file is written atomically (temp file + rename), and running it again
 * rewrites the same bytes.
 */
export async function writeSyntheticModel(dir: string, options: SyntheticModelOptions = {}): Promise<void> {
  const resolved = resolveSyntheticOptions(options);
  const build = await buildSyntheticModel(resolved);
  const rewritten = new Map<string, unknown>();
  if (resolved.size === 'small') {
    rewritten.set(MODEL_FILES.transformerConfig, build.config);
    const pooling = JSON.parse(await fs.readFile(modelPath(resolved.tokenizerDir, MODEL_FILES.poolingConfig), 'utf8')) as Record<string, unknown>;
    rewritten.set(MODEL_FILES.poolingConfig, { ...pooling, word_embedding_dimension: build.architecture.hiddenSize });
  }

  for (const file of COPIED_FILES) {
    const replacement = rewritten.get(file);
    let bytes: Uint8Array | string;
    if (replacement !== undefined) {
      bytes = `${JSON.stringify(replacement, null, 2)}\n`;
    } else {
      try {
        bytes = await fs.readFile(modelPath(resolved.tokenizerDir, file));
      } catch (error) {
        if (OPTIONAL_FILES.has(file) && (error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw new Error(`${file} is missing from the tokenizer directory ${resolved.tokenizerDir} (--tokenizer-dir)`, { cause: error });
      }
    }
    await writeFileAtomic(modelPath(dir, file), bytes);
  }
  await writeFileAtomic(modelPath(dir, MODEL_FILES.onnxModel), build.fp32);
  if (build.int8) await writeFileAtomic(modelPath(dir, SYNTHETIC_INT8_FILE), build.int8);
}

/** sha256 over the tokenizer directory's files that a model directory copies (a cache key). */
export async function tokenizerFilesDigest(tokenizerDir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const file of COPIED_FILES) {
    const bytes = await fs.readFile(modelPath(tokenizerDir, file)).catch(() => undefined);
    hash.update(`${file}\0${bytes === undefined ? '-' : createHash('sha256').update(bytes).digest('hex')}\0`);
  }
  return hash.digest('hex');
}
