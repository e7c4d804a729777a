import type { OnnxMetadata } from './onnx-metadata';

/**
 * What `npm run model:synthetic` (scripts/synthetic-model) writes into every ONNX file it
 * generates, and so what tells the service that the model it is about to serve has random weights.
 * The marker travels inside the ONNX file, so a copy or a download of that file keeps it.
 */
export const SYNTHETIC_PRODUCER_NAME = 'embedding-service synthetic-model';
export const SYNTHETIC_METADATA_KEY = 'synthetic';

export const isSyntheticModel = (metadata: OnnxMetadata): boolean =>
  metadata.producerName === SYNTHETIC_PRODUCER_NAME || metadata.props[SYNTHETIC_METADATA_KEY] === 'true';
