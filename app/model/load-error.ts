/**
 * onnxruntime cannot make a session of the model file, or the session is not the encoder the
 * directory's config files describe: the file is at fault, not the machine. Thrown on the
 * inference thread (onnx-encoder.ts) and again on the main thread (inference-thread.ts), which
 * gets only its message. No imports: the main thread must not load onnxruntime.
 */
export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
}
