import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'winston';
import { DEFAULT_ONNX_FILE } from '../defaults';
import { REQUIRED_FILES, modelPath } from '../model/layout';
import { modelDirectoryFailure, StartupError } from '../startup-errors';
import { createStderrProgress, downloadModel, ModelDownloadError } from './download';

export interface ProvisionOptions {
  readonly dir: string;
  readonly onnxFile: string;
  readonly autoDownload: boolean;
  readonly hubEndpoint: string;
}

/** Where `npm run model:synthetic` writes when a start-up failure suggests it. */
const SYNTHETIC_DIR = './models/synthetic';

/**
 * The ways to get a model when the directory holds none and the hub cannot help. The synthetic
 * model comes first: it is the only one that works offline.
 */
export function offlineFixes(dir: string): string[] {
  return [
    `offline: \`npm run model:synthetic -- ${SYNTHETIC_DIR}\`, then start with EMBEDDING_MODEL_DIR=${SYNTHETIC_DIR}: a synthetic model (random weights, so its vectors are not meaningful embeddings) for trying the API and running the tests`,
    'set HF_ENDPOINT to a reachable Hugging Face mirror',
    'on a machine that reaches the hub, run `npm run model:fetch -- <dir>` and copy <dir> here',
    `copy an all-MiniLM-L6-v2 model directory (onnx/model.onnx, tokenizer.json, 1_Pooling/ ...) to ${dir}, or point EMBEDDING_MODEL_DIR at one`,
    'build the Docker image, which bakes the model in',
  ];
}

/**
 * Makes sure the model directory holds a readable model: present already, or fetched from the hub
 * at the pinned revision. Every way this fails is a StartupError naming the fix.
 */
export async function provisionModel(options: ProvisionOptions, logger: Logger, signal?: AbortSignal): Promise<void> {
  const missing = await missingModelFiles(options.dir, options.onnxFile);
  if (missing.length === 0) return;
  const where = `${path.resolve(options.dir)} (EMBEDDING_MODEL_DIR)`;
  const lacking = missing.length === REQUIRED_FILES.length + 1 ? 'no model' : `an incomplete model (${missing.join(', ')} missing)`;
  if (!options.autoDownload) {
    throw new StartupError(`${lacking} in ${where}, and MODEL_AUTO_DOWNLOAD=false`, [
      `set MODEL_AUTO_DOWNLOAD=true to download it from ${options.hubEndpoint} (HF_ENDPOINT)`,
      ...offlineFixes(options.dir),
    ]);
  }
  logger.info('model not found locally; downloading', { dir: options.dir, endpoint: options.hubEndpoint, missing });
  const include = options.onnxFile === DEFAULT_ONNX_FILE ? [] : [options.onnxFile];
  try {
    await downloadModel({ dir: options.dir, endpoint: options.hubEndpoint, include, onProgress: createStderrProgress(), ...(signal ? { signal } : {}) });
  } catch (error) {
    if (!(error instanceof ModelDownloadError) || error.reason === 'aborted') throw modelDirectoryFailure(error, options.dir) ?? error;
    if (error.reason === 'filesystem') {
      throw new StartupError(`the model could not be written into ${where}: ${error.message}`, [
        `make ${path.resolve(options.dir)} writable by the user running the service, or point EMBEDDING_MODEL_DIR at a writable directory`,
        ...offlineFixes(options.dir).slice(0, 1),
      ]);
    }
    throw new StartupError(`${lacking} in ${where}, and it could not be downloaded from ${options.hubEndpoint} (HF_ENDPOINT): ${error.message}`, offlineFixes(options.dir));
  }
}

/**
 * The model files (the required ones and the chosen ONNX file) that are not in `dir` as regular
 * files. A directory that is not one, or a file that cannot be read, throws a StartupError.
 */
export async function missingModelFiles(dir: string, onnxFile: string = DEFAULT_ONNX_FILE): Promise<string[]> {
  try {
    if (!(await stat(dir)).isDirectory()) throw Object.assign(new Error(`${dir} is a file`), { code: 'ENOTDIR' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [...REQUIRED_FILES, onnxFile];
    throw modelDirectoryFailure(error, dir) ?? error;
  }
  const missing: string[] = [];
  for (const file of [...REQUIRED_FILES, onnxFile]) {
    try {
      const handle = await open(modelPath(dir, file), 'r');
      const isFile = (await handle.stat()).isFile();
      await handle.close();
      if (!isFile) missing.push(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') missing.push(file);
      else throw modelDirectoryFailure(error, dir) ?? error;
    }
  }
  return missing;
}
