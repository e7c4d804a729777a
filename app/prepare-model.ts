import type { Logger } from 'winston';
import type { Config } from './config';
import { loadEmbeddingModel, type EmbeddingModel } from './model';
import { provisionModel } from './provisioning/provision';

export interface LoadedModel {
  readonly model: EmbeddingModel;
  readonly loadMs: number;
}

/**
 * Provisions (downloads if missing and allowed) and loads the model. Started before the HTTP stack
 * is even required: the session builds on the inference worker's thread while the main thread
 * loads Express, so start-up costs the longer of the two, not their sum.
 */
export async function prepareModel(config: Config, logger: Logger): Promise<LoadedModel> {
  const started = performance.now();
  await provisionModel(config.model, logger);
  const model = await loadEmbeddingModel({
    dir: config.model.dir,
    onnxFile: config.model.onnxFile,
    maxCharsPerText: config.tokenizer.maxCharsPerText,
    ...config.session,
    supervision: config.supervision,
  });
  return { model, loadMs: Math.round(performance.now() - started) };
}
