import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { loadOnnxEncoder, type SessionOptions } from './onnx-encoder';
import type { ModelSettings } from './settings';

/**
 * Owns the onnxruntime session on a worker thread. onnxruntime-node's `session.run` executes on the
 * calling thread, so on the main thread it would stall every HTTP request for the whole inference.
 */
export interface WorkerInit {
  readonly file: string;
  readonly settings: ModelSettings;
  readonly options: SessionOptions;
}

/** One run: the token ids of a batch, flattened: row i is ids[offsets[i] .. offsets[i + 1]). */
export interface RunRequest {
  readonly id: number;
  readonly ids: Int32Array;
  readonly offsets: Int32Array;
}

export type WorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'load-failed'; readonly message: string }
  | { readonly type: 'result'; readonly id: number; readonly vectors: Float32Array }
  | { readonly type: 'error'; readonly id: number; readonly message: string };

/**
 * Nice value of the inference threads. On Linux the nice value belongs to a thread, and threads
 * inherit it when created: set here, before the session creates its intra-op thread pool, it
 * lowers the priority of inference alone. When CPU is short (a 0.5-vCPU task, overload) the HTTP
 * thread then still gets it, so shedding, /health and responses stay fast while inference takes
 * the rest. Raising a nice value needs no privilege.
 */
const INFERENCE_THREAD_NICE = 10;

function lowerThreadPriority(): void {
  // Elsewhere setpriority(0) would renice the whole process, the HTTP thread included.
  if (process.platform !== 'linux') return;
  try {
    os.setPriority(INFERENCE_THREAD_NICE);
  } catch {
    // not allowed here: run at normal priority
  }
}

async function serve(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('inference-worker must run as a worker thread');
  const init = workerData as WorkerInit;
  lowerThreadPriority();
  let encoder;
  try {
    encoder = await loadOnnxEncoder(init.file, init.settings, init.options);
  } catch (error) {
    port.postMessage({ type: 'load-failed', message: (error as Error).message } satisfies WorkerMessage);
    return;
  }
  const loaded = encoder;
  port.on('message', (request: RunRequest | 'release') => {
    if (request === 'release') {
      void loaded.release().finally(() => port.close());
      return;
    }
    const rows: Int32Array[] = [];
    for (let i = 0; i + 1 < request.offsets.length; i++) {
      rows.push(request.ids.subarray(request.offsets[i], request.offsets[i + 1]));
    }
    loaded.run(rows).then(
      (vectors) => {
        const flat = new Float32Array(vectors.length * init.settings.dimension);
        vectors.forEach((v, i) => flat.set(v, i * init.settings.dimension));
        port.postMessage({ type: 'result', id: request.id, vectors: flat } satisfies WorkerMessage, [flat.buffer]);
      },
      (error: Error) => port.postMessage({ type: 'error', id: request.id, message: error.message } satisfies WorkerMessage),
    );
  });
  port.postMessage({ type: 'ready' } satisfies WorkerMessage);
}

void serve();
