import type { Logger } from 'winston';
import { DEFAULT_ONNX_FILE } from '../defaults';
import { createStderrProgress, describeOfflineFailure, downloadModel, hasModel, ModelDownloadError } from './download';

export interface ProvisionOptions {
  readonly dir: string;
  readonly onnxFile: string;
  readonly autoDownload: boolean;
  readonly hubEndpoint: string;
}

export class ModelUnavailableError extends Error {
  override name = 'ModelUnavailableError';
}

/** Makes sure the model directory holds a model: present already, or fetched from the hub at the pinned revision. */
export async function provisionModel(options: ProvisionOptions, logger: Logger): Promise<void> {
  if (await hasModel(options.dir, options.onnxFile)) return;
  if (!options.autoDownload) {
    throw new ModelUnavailableError(`no model in ${options.dir} and MODEL_AUTO_DOWNLOAD=false. ${describeOfflineFailure(options.dir, options.hubEndpoint)}`);
  }
  logger.info('model not found locally; downloading', { dir: options.dir, endpoint: options.hubEndpoint });
  const include = options.onnxFile === DEFAULT_ONNX_FILE ? [] : [options.onnxFile];
  try {
    await downloadModel({ dir: options.dir, endpoint: options.hubEndpoint, include, onProgress: createStderrProgress() });
  } catch (error) {
    if (error instanceof ModelDownloadError) {
      throw new ModelUnavailableError(`${error.message}\n${describeOfflineFailure(options.dir, options.hubEndpoint)}`);
    }
    throw error;
  }
}
