import path from 'node:path';
import type { Config } from './config';
import { modelPath } from './model/layout';
import { NotAnOnnxModelError, readOnnxMetadata } from './model/onnx-metadata';
import { isSyntheticModel } from './model/synthetic-marker';
import { StartupError } from './startup-errors';

/** What the service says it serves: in responses, /health, /v1/models, span attributes and logs. */
export interface ServedModel {
  /** The name reported everywhere: MODEL_NAME, or `<MODEL_NAME>-synthetic` for a synthetic model. */
  readonly name: string;
  /** MODEL_NAME: the real model, which a synthetic one is never passed off as. */
  readonly realName: string;
  /** The ONNX file carries the marker of `npm run model:synthetic`: random weights. */
  readonly synthetic: boolean;
}

export const SYNTHETIC_SUFFIX = '-synthetic';

/** What a synthetic model's vectors are worth, said the same way in logs, /health and errors. */
export const SYNTHETIC_WARNING = 'synthetic model (random weights, written by npm run model:synthetic): its vectors are not meaningful embeddings';

/**
 * Reads the ONNX file's marker (a few bytes, before the model loads) and names the model. A file
 * not there yet is the pinned model about to be downloaded, so not synthetic; a file that cannot be
 * read is left to provisioning, which says why. Refuses a synthetic model under NODE_ENV=production
 * unless ALLOW_SYNTHETIC_MODEL is set, and a file that is not an ONNX model at all.
 */
export async function identifyModel(config: Pick<Config, 'model' | 'production'>): Promise<ServedModel> {
  const file = modelPath(config.model.dir, config.model.onnxFile);
  let synthetic = false;
  try {
    synthetic = isSyntheticModel(await readOnnxMetadata(file));
  } catch (error) {
    if (error instanceof NotAnOnnxModelError) throw unusableModel(error.message, config.model);
  }
  const realName = config.model.name;
  const served = { name: synthetic && !realName.endsWith(SYNTHETIC_SUFFIX) ? `${realName}${SYNTHETIC_SUFFIX}` : realName, realName, synthetic };
  if (synthetic && config.production && !config.model.allowSynthetic) {
    throw new StartupError(`${path.resolve(file)} is a ${SYNTHETIC_WARNING}, and NODE_ENV=production does not serve one`, [
      `serve the real model: an all-MiniLM-L6-v2 directory from \`npm run model:fetch -- <dir>\` or the image build (EMBEDDING_MODEL_DIR)`,
      'if serving random vectors is what you mean (a test of the image), set ALLOW_SYNTHETIC_MODEL=true',
    ]);
  }
  return served;
}

/**
 * A model file that is there but cannot be served (not an ONNX model, cut short, the wrong shape,
 * refused by onnxruntime), as a StartupError: what is wrong with it, then how to get a good one.
 */
export function unusableModel(problem: string, model: Pick<Config['model'], 'dir' | 'onnxFile'>): StartupError {
  const dir = path.resolve(model.dir);
  return new StartupError(`the model in ${dir} (EMBEDDING_MODEL_DIR, file ${model.onnxFile}) cannot be served: ${problem}`, [
    `download the model again: \`npm run model:fetch -- ${model.dir}\` replaces every file whose checksum is wrong`,
    `offline, for a test model: \`npm run model:synthetic -- ${model.dir}\` (random weights)`,
    'if the directory holds the right model under another name, set EMBEDDING_MODEL_FILE to its ONNX file',
  ]);
}

/**
 * Why a request that names a model is refused, or undefined: a synthetic model never answers a
 * request for the real one (by MODEL_NAME, with or without its hub owner, in any case), so a caller
 * cannot take its random vectors for real embeddings. Other names are ignored, as ever.
 */
export function refusalOfRealModel(model: ServedModel, requested: string | undefined): string | undefined {
  if (!model.synthetic || requested === undefined) return undefined;
  const asked = requested.toLowerCase();
  const real = model.realName.toLowerCase();
  if (asked !== real && !asked.endsWith(`/${real}`)) return undefined;
  return `The model '${requested}' is not served here: this server has '${model.name}', a ${SYNTHETIC_WARNING}. Ask for '${model.name}' to use it on purpose, or serve the real model`;
}
