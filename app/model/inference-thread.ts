import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { RunRequest, WorkerInit, WorkerMessage } from './inference-worker';
import { ModelLoadError } from './load-error';
import type { SupervisedThread, ThreadFactory } from './supervisor';

interface Pending {
  resolve(vectors: Float32Array[]): void;
  reject(error: Error): void;
  rows: number;
}

/** The worker thread's script: the compiled inference-worker.ts beside this file. */
export const INFERENCE_WORKER_SCRIPT = path.join(__dirname, 'inference-worker.js');

const wait = (ms: number) => new Promise<false>((resolve) => setTimeout(() => resolve(false), ms).unref());

/**
 * One worker thread that owns one onnxruntime session. It knows nothing of supervision: it reports
 * once, through `onEnd`, when it stops without being asked to (exit, uncaught error), and rejects
 * whatever it had in flight.
 */
export class InferenceThread implements SupervisedThread {
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private endedWith: Error | undefined;
  private stopping = false;
  /** Resolves when the thread has really ended (a thread stuck in native code may never). */
  readonly exited: Promise<void>;

  private constructor(
    private readonly worker: Worker,
    private readonly dimension: number,
    onEnd: (thread: InferenceThread, error: Error) => void,
  ) {
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (message: WorkerMessage) => this.settle(message));
    const end = (error: Error) => {
      if (this.endedWith) return;
      this.endedWith = error;
      this.failPending(error);
      if (!this.stopping) onEnd(this, error);
    };
    worker.on('error', (error) => end(new Error(`inference worker crashed: ${error.message}`)));
    worker.on('exit', (code) => end(new Error(`inference worker exited with code ${code}`)));
  }

  /** Starts a thread and resolves once its session is loaded; rejects if loading fails. */
  static start(init: WorkerInit, onEnd: (thread: InferenceThread, error: Error) => void): Promise<InferenceThread> {
    // onnxruntime-node 1.30 on Linux starts Microsoft's telemetry with its first session unless
    // ORT_DISABLE_TELEMETRY is 1/true/yes/on/y: it writes ~/.cache/Microsoft/DeveloperTools/.onnxruntime/
    // and /tmp/.ses, /tmp/mat-debug-<pid>.log, and uploads over HTTPS. The library reads the process
    // environment, which a worker's process.env does not change, so it is set here, before the worker.
    process.env.ORT_DISABLE_TELEMETRY = '1';
    const worker = new Worker(INFERENCE_WORKER_SCRIPT, { workerData: init });
    return new Promise<InferenceThread>((resolve, reject) => {
      const onMessage = (message: WorkerMessage) => {
        if (message.type !== 'ready' && message.type !== 'load-failed') return;
        detach();
        if (message.type === 'ready') {
          resolve(new InferenceThread(worker, init.settings.dimension, onEnd));
        } else {
          void worker.terminate();
          reject(new ModelLoadError(message.message));
        }
      };
      const onError = (error: Error) => {
        detach();
        void worker.terminate();
        reject(error);
      };
      const onExit = (code: number) => onError(new Error(`inference worker exited with code ${code} while loading`));
      // Only our own listeners: Worker keeps internal ones (they ref its port) that must stay.
      const detach = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
    });
  }

  get inFlight(): number {
    return this.pending.size;
  }

  get alive(): boolean {
    return this.endedWith === undefined;
  }

  /** One inference run: token ids go over flattened and transferred, vectors come back the same way. */
  run(batch: ReadonlyArray<ArrayLike<number>>): Promise<Float32Array[]> {
    if (batch.length === 0) return Promise.resolve([]);
    if (this.endedWith) return Promise.reject(this.endedWith);
    const offsets = new Int32Array(batch.length + 1);
    batch.forEach((ids, i) => (offsets[i + 1] = (offsets[i] as number) + ids.length));
    const ids = new Int32Array(offsets[batch.length] as number);
    batch.forEach((row, i) => ids.set(row, offsets[i]));
    const id = this.nextId++;
    const request: RunRequest = { id, ids, offsets };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, rows: batch.length });
      this.worker.postMessage(request, [ids.buffer, offsets.buffer]);
    });
  }

  /** Asks the thread to release its session and exit; terminates it if it does not within `timeoutMs`. */
  async release(timeoutMs: number): Promise<boolean> {
    if (this.endedWith) return true;
    this.stopping = true;
    this.worker.postMessage('release');
    if (await Promise.race([this.exited.then(() => true), wait(timeoutMs)])) return true;
    return this.terminate(timeoutMs);
  }

  /**
   * Stops the thread whatever it is doing, failing what it had in flight with `reason`. Resolves
   * true once it has ended, false if it did not end within `timeoutMs` (stuck in native code:
   * V8 can interrupt JavaScript, not a native call).
   */
  async terminate(timeoutMs: number, reason?: Error): Promise<boolean> {
    this.stopping = true;
    if (reason) this.failPending(reason);
    void this.worker.terminate().catch(() => {});
    return Promise.race([this.exited.then(() => true), wait(timeoutMs)]);
  }

  private settle(message: WorkerMessage): void {
    if (message.type !== 'result' && message.type !== 'error') return;
    const request = this.pending.get(message.id);
    if (!request) return;
    this.pending.delete(message.id);
    if (message.type === 'error') {
      request.reject(new Error(message.message));
      return;
    }
    const vectors: Float32Array[] = [];
    for (let i = 0; i < request.rows; i++) vectors.push(message.vectors.subarray(i * this.dimension, (i + 1) * this.dimension));
    request.resolve(vectors);
  }

  private failPending(error: Error): void {
    for (const request of this.pending.values()) request.reject(error);
    this.pending.clear();
  }
}

/** Threads for the supervisor: each a worker thread with its own session. */
export function inferenceThreads(init: WorkerInit): ThreadFactory {
  return (onEnd) => InferenceThread.start(init, onEnd);
}
