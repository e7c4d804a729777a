import type { Sample } from './cpu-profile';
import type { Stamp } from './stage-clock';

/**
 * The stages of one embedding request: where the CPU went, from the CPU profiles of the HTTP thread
 * and of the inference thread (each sample put in the stage whose code it was running), and where
 * the wall time went, from the stamps bench/stage-clock.ts takes at each stage's boundary.
 */

type Frame = Sample['stack'][number];
type Rule = readonly [stage: string, matches: (frame: Frame) => boolean];

const inFile = (pattern: RegExp, functionName?: RegExp) => (frame: Frame) => pattern.test(frame.url) && (functionName === undefined || functionName.test(frame.functionName));

/**
 * Stages that own everything beneath them, checked over the whole stack in this order (a log line
 * writes to a socket, but is the log line's cost, not the response's).
 */
const MAIN_OUTER: readonly Rule[] = [
  ['close: log line, metrics, span end', (f) => /^(emitCloseNT|onServerResponseClose)$/.test(f.functionName) || inFile(/\/(winston|logform|winston-transport|readable-stream|safe-stable-stringify)\//)(f)],
  ['span export (OTLP)', inFile(/@opentelemetry\/(otlp-|exporter-)|BatchSpanProcessor/)],
  ['tokenise', inFile(/@huggingface\/tokenizers\/|\/app\/model\/tokenizer\.js$/)],
  ['body read + JSON.parse + validation', inFile(/\/app\/http\/(json-body|json-depth|schemas)\.js$|\/zod\//)],
  ['response JSON', inFile(/\/app\/http\/(vectors|routes\/embed|routes\/openai)\.js$/, /^(item|toJsonVector|toBase64Vector)$/)],
  ['hand-off to the inference thread', inFile(/\/app\/model\/(inference-thread|supervisor)\.js$/, /^run$/)],
  ['result back from the inference thread', (f) => inFile(/\/app\/model\/inference-thread\.js$/, /^settle$/)(f) || /^node:internal\/per_context\/messageport/.test(f.url)],
];

/** The rest by the innermost frame that names a place. */
const MAIN_INNER: readonly Rule[] = [
  ['tracing (spans, context)', inFile(/@opentelemetry\/|^node:(async_hooks|internal\/async_hooks|internal\/async_local_storage|internal\/async_context_frame)/)],
  ['response write', inFile(/^node:(_http_outgoing|net|internal\/stream_base_commons|internal\/streams\/writable)|\/app\/http\/responses\.js$/)],
  ['admission + queue + scheduler', inFile(/\/app\/(batching\/|embedder\.js|model\/index\.js)/)],
  ['Express routing + middleware', inFile(/\/(express|router|finalhandler|on-finished|type-is|content-type|media-typer|mime-types|path-to-regexp)\/|\/app\/http\//)],
  ['HTTP parse', inFile(/^node:(_http_common|_http_server|_http_incoming)/)],
  ['socket read', inFile(/^node:(net|internal\/streams\/readable|stream)/)],
  ['metrics (prom-client)', inFile(/\/prom-client\//)],
];

const WORKER_OUTER: readonly Rule[] = [
  ['post the vectors back', (f) => f.functionName === 'postMessage' || inFile(/\/app\/model\/inference-worker\.js$/, /postMessage/)(f)],
  ['mean pooling', inFile(/\/app\/model\/pooling\.js$/)],
  ['onnxruntime session.run', inFile(/onnxruntime-node\/dist\/backend\.js$/)],
  ['receive + pad the batch', (f) => inFile(/\/app\/model\/(inference-worker|onnx-encoder)\.js$|onnxruntime-(common|node)\//)(f) || /^node:internal\/per_context\/messageport/.test(f.url)],
];

const SPECIAL: Readonly<Record<string, string>> = { '(idle)': 'idle', '(garbage collector)': 'GC', '(program)': 'V8/native (no JS frame)' };

function stageOf(stack: readonly Frame[], outer: readonly Rule[], inner: readonly Rule[]): string {
  const special = SPECIAL[stack[0]?.functionName ?? ''];
  if (special) return special;
  for (const [stage, matches] of outer) if (stack.some(matches)) return stage;
  for (const frame of stack) for (const [stage, matches] of inner) if (matches(frame)) return stage;
  return 'other (event loop, timers, microtasks)';
}

export const mainStage = (stack: readonly Frame[]): string => stageOf(stack, MAIN_OUTER, MAIN_INNER);
export const workerStage = (stack: readonly Frame[]): string => stageOf(stack, WORKER_OUTER, []);

/** One stage of a request's wall time: from one stamp (bench/stage-clock.ts) to the next. */
export interface WallStage {
  readonly thread: 'HTTP' | 'inference' | 'both';
  readonly stage: string;
  readonly medianMs: number;
  readonly meanMs: number;
}

/** The stages, each from one stamp to the next; the inference thread's stamps are its own, matched by time. */
const WALL_STAGES: ReadonlyArray<readonly [WallStage['thread'], string, string, string]> = [
  ['HTTP', 'Express routing, middleware, body read', 'request', 'body'],
  ['HTTP', 'JSON.parse, validation, cache, admission', 'body', 'tokenise:start'],
  ['HTTP', 'tokenise', 'tokenise:start', 'tokenise:end'],
  ['HTTP', 'queue, scheduler, hand-off', 'tokenise:end', 'post'],
  ['both', 'hop to the inference thread', 'post', 'w:receive'],
  ['inference', 'unpack, pad, tensors', 'w:receive', 'w:run:start'],
  ['inference', 'onnxruntime session.run', 'w:run:start', 'w:run:end'],
  ['inference', 'mean pooling, pack', 'w:run:end', 'w:post'],
  ['both', 'hop back to the HTTP thread', 'w:post', 'message'],
  ['HTTP', 'results to the request, telemetry, response JSON', 'message', 'end:start'],
  ['HTTP', 'response write (res.end)', 'end:start', 'end:done'],
  ['HTTP', 'close: log line, metrics, span end', 'end:done', 'close:done'],
];

const mean = (values: readonly number[]) => (values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length);

/**
 * Per-request stage times from the stamps of both threads, for requests one at a time (concurrency
 * 1): each request runs from its `request` stamp to the next one; the inference thread's stamps
 * that belong to it are the first of each kind after the request's `post`.
 */
export function wallStages(main: readonly Stamp[], worker: readonly Stamp[], fromUs: number, toUs: number): { requests: number; stages: WallStage[]; serverMedianMs: number } {
  const requests: Array<Map<string, number>> = [];
  for (const [event, at] of main) {
    if (at < fromUs || at >= toUs) continue;
    if (event === 'request') requests.push(new Map([[event, at]]));
    else {
      const current = requests[requests.length - 1];
      if (current && !current.has(event)) current.set(event, at);
    }
  }
  const sortedWorker = [...worker].sort((a, b) => a[1] - b[1]);
  for (const request of requests) {
    const posted = request.get('post');
    if (posted === undefined) continue;
    let after = posted;
    for (const event of ['receive', 'run:start', 'run:end', 'post']) {
      const found = sortedWorker.find(([e, at]) => e === event && at >= after);
      if (!found) break;
      request.set(`w:${event}`, found[1]);
      after = found[1];
    }
  }
  const complete = requests.filter((r) => WALL_STAGES.every(([, , from, to]) => r.has(from) && r.has(to)));
  const stages = WALL_STAGES.map(([thread, stage, from, to]) => {
    const values = complete.map((r) => ((r.get(to) as number) - (r.get(from) as number)) / 1000);
    return { thread, stage, medianMs: median(values), meanMs: mean(values) };
  });
  const server = complete.map((r) => ((r.get('end:done') as number) - (r.get('request') as number)) / 1000);
  return { requests: complete.length, stages, serverMedianMs: median(server) };
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : (sorted[Math.floor(sorted.length / 2)] as number);
};
