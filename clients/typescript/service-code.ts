/**
 * The service's own code that the client reuses, imported here and nowhere else in the client, so a
 * move inside app/ is one edit: the Retry-After reader, and the model pipeline for the local
 * fallback with its defaults (loaded only when an outage needs it, so a caller that never falls back never loads
 * onnxruntime).
 */
export { DEFAULT_MAX_CHARS_PER_TEXT, DEFAULT_ONNX_FILE } from '../../app/defaults';
export { parseRetryAfter } from '../../app/retry-after';
export type { EmbeddingModel } from '../../app/model';

export const importServiceModel = () => import('../../app/model');
