import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { EncodeRequest, WorkerInit, WorkerMessage } from './inference-worker';
import type { SentenceEncoder } from './onnx-model';

interface Pending {
  resolve(vectors: Float32Array[]): void;
  reject(error: Error): void;
  rows: number;
}

/**
 * The compiled worker script. Under ts-jest this module is TypeScript, which a worker thread cannot
 * load, so it falls back to the build output (jest's global setup builds it before any test runs).
 */
function workerScript(): string {
  if (__filename.endsWith('.js')) return path.join(__dirname, 'inference-worker.js');
  return path.resolve(__dirname, '../../dist/app/model/inference-worker.js');
}

/** A SentenceEncoder whose session runs on a worker thread, keeping the event loop free during inference. */
export async function loadWorkerEncoder(init: WorkerInit): Promise<SentenceEncoder> {
  const dimension = init.settings.dimension;
  const pending = new Map<number, Pending>();
  let nextId = 0;
  let exitError: Error | undefined;

  const worker = new Worker(workerScript(), { workerData: init });
  await new Promise<void>((resolve, reject) => {
    const onMessage = (message: WorkerMessage) => {
      if (message.type !== 'ready' && message.type !== 'load-failed') return;
      settle();
      if (message.type === 'ready') resolve();
      else reject(new Error(message.message));
    };
    const onError = (error: Error) => {
      settle();
      reject(error);
    };
    const onExit = (code: number) => onError(new Error(`inference worker exited with code ${code} while loading`));
    // Only our own listeners: Worker keeps internal ones (they ref its port) that must stay.
    const settle = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });

  worker.on('message', (message: WorkerMessage) => {
    if (message.type !== 'result' && message.type !== 'error') return;
    const request = pending.get(message.id);
    if (!request) return;
    pending.delete(message.id);
    if (message.type === 'error') {
      request.reject(new Error(message.message));
      return;
    }
    const vectors: Float32Array[] = [];
    for (let i = 0; i < request.rows; i++) vectors.push(message.vectors.subarray(i * dimension, (i + 1) * dimension));
    request.resolve(vectors);
  });
  const failAll = (error: Error) => {
    exitError = error;
    for (const request of pending.values()) request.reject(error);
    pending.clear();
  };
  worker.on('error', failAll);
  worker.on('exit', (code) => failAll(new Error(`inference worker exited with code ${code}`)));

  return {
    dimension,
    encode(batch) {
      if (batch.length === 0) return Promise.resolve([]);
      if (exitError) return Promise.reject(exitError);
      const offsets = new Int32Array(batch.length + 1);
      batch.forEach((ids, i) => (offsets[i + 1] = (offsets[i] as number) + ids.length));
      const ids = new Int32Array(offsets[batch.length] as number);
      batch.forEach((row, i) => ids.set(row, offsets[i]));
      const id = nextId++;
      const request: EncodeRequest = { id, ids, offsets };
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject, rows: batch.length });
        worker.postMessage(request, [ids.buffer, offsets.buffer]);
      });
    },
    async release() {
      if (exitError) return;
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage('release');
      await exited;
    },
  };
}
