import type { Logger } from 'winston';
import type { Config } from './config';
import { loadEmbeddingModel, ModelLoadError, ModelSettingsError, type EmbeddingModel } from './model';
import { unusableModel } from './model-identity';
import { provisionModel } from './provisioning/provision';

export interface LoadedModel {
  readonly model: EmbeddingModel;
  readonly loadMs: number;
}

/**
 * Provisions (downloads if missing and allowed) and loads the model. Started before the HTTP stack
 * is even required: the session builds on the inference worker's thread while the main thread
 * loads Express, so start-up costs the longer of the two, not their sum. A model that is there but
 * cannot be served fails with a StartupError naming the fix; `signal` stops a download.
 */
export async function prepareModel(config: Config, logger: Logger, signal?: AbortSignal): Promise<LoadedModel> {
  const started = performance.now();
  await provisionModel(config.model, logger, signal);
  try {
    const model = await loadEmbeddingModel({
      dir: config.model.dir,
      onnxFile: config.model.onnxFile,
      maxCharsPerText: config.tokenizer.maxCharsPerText,
      ...config.session,
      supervision: config.supervision,
    });
    return { model, loadMs: Math.round(performance.now() - started) };
  } catch (error) {
    if (error instanceof ModelLoadError || error instanceof ModelSettingsError) throw unusableModel(error.message, config.model);
    throw error;
  }
}
