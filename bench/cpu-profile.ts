import fs from 'node:fs';
import path from 'node:path';

/**
 * Reading V8 CPU profiles (`node --cpu-prof`, one `.cpuprofile` per thread) into where a thread's
 * time went: every sample is charged to a category by the code it was in, and samples carry their
 * time, so a window of the profile (the measured load, not start-up) can be cut out. Profile times
 * are microseconds of the monotonic clock `process.hrtime` reads, so a window taken by the load
 * generator lines up with them.
 */

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

interface RawProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** One sample: when it was taken, how long it stood for, and the stack from the leaf to the root. */
export interface Sample {
  readonly atUs: number;
  readonly durationUs: number;
  readonly stack: readonly CallFrame[];
}

export interface ThreadProfile {
  /** From the file name: 0 is the main thread, 1 the first worker thread. */
  readonly threadId: number;
  readonly file: string;
  readonly samples: readonly Sample[];
}

/** `CPU.<date>.<time>.<pid>.<thread id>.<sequence>.cpuprofile`, as node names them. */
const PROFILE_NAME = /^CPU\.\d+\.\d+\.\d+\.(\d+)\.\d+\.cpuprofile$/;

export function readThreadProfiles(dir: string): ThreadProfile[] {
  return fs
    .readdirSync(dir)
    .filter((name) => PROFILE_NAME.test(name))
    .map((name) => readProfile(path.join(dir, name), Number(PROFILE_NAME.exec(name)?.[1])))
    .sort((a, b) => a.threadId - b.threadId);
}

export function readProfile(file: string, threadId: number): ThreadProfile {
  const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as RawProfile;
  const byId = new Map(raw.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of raw.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const stacks = new Map<number, CallFrame[]>();
  const stackOf = (id: number): CallFrame[] => {
    let stack = stacks.get(id);
    if (!stack) {
      stack = [];
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) stack.push((byId.get(at) as ProfileNode).callFrame);
      stacks.set(id, stack);
    }
    return stack;
  };
  const samples: Sample[] = [];
  let at = raw.startTime;
  for (let i = 0; i < raw.samples.length; i++) {
    at += raw.timeDeltas[i] ?? 0;
    const next = i + 1 < raw.samples.length ? at + (raw.timeDeltas[i + 1] ?? 0) : raw.endTime;
    samples.push({ atUs: at, durationUs: Math.max(0, next - at), stack: stackOf(raw.samples[i] as number) });
  }
  return { threadId, file, samples };
}

export const within = (samples: readonly Sample[], fromUs: number, toUs: number): Sample[] => samples.filter((s) => s.atUs >= fromUs && s.atUs < toUs);

/** Where a frame's code lives, for categories: the package, Node's own module, or our file. */
const SPECIAL = new Set(['(idle)', '(garbage collector)', '(program)', '(root)']);

/** The categories of a sample by its innermost frame that belongs to a script (builtins such as JSON.stringify count for their caller). */
export type Categorise = (stack: readonly CallFrame[]) => string;

const URL_CATEGORIES: ReadonlyArray<readonly [RegExp, string]> = [
  [/node_modules\/@opentelemetry\//, 'tracing (OpenTelemetry)'],
  [/node_modules\/(winston|winston-transport|logform|triple-beam|safe-stable-stringify|fecha|@colors|colors|readable-stream)\//, 'logging (winston)'],
  [/node_modules\/(express|router|body-parser|finalhandler|send|path-to-regexp|on-finished|statuses|content-type|type-is|mime-types|accepts|negotiator|depd|encodeurl|parseurl|vary|setprototypeof|http-errors|fresh|range-parser|cookie|media-typer|escape-html|merge-descriptors|debug|ms)\//, 'Express'],
  [/node_modules\/zod\//, 'validation (zod)'],
  [/node_modules\/@huggingface\/tokenizers\/|\/app\/model\/tokenizer\.js/, 'tokenise'],
  [/node_modules\/prom-client\//, 'metrics (prom-client)'],
  [/node_modules\/onnxruntime-(node|common)\//, 'onnxruntime (JS side, run included)'],
  [/\/app\/http\//, 'app/http'],
  [/\/app\/(batching\/|embedder\.js)/, 'app/batching + embedder'],
  [/\/app\/model\/(onnx-encoder|pooling)\.js/, 'encoder (pad, pool)'],
  [/\/app\/model\//, 'app/model (supervisor, thread hand-off)'],
  [/\/app\/(telemetry|logger|metrics)\.js/, 'app telemetry'],
  [/^node:internal\/(worker|per_context\/messageport)/, 'thread messaging'],
  [/^node:(_http_|http$|internal\/http)/, 'Node HTTP'],
  [/^node:(net|internal\/stream_base_commons|internal\/streams|stream|internal\/net)/, 'Node net + streams'],
  [/^node:(async_hooks|internal\/async_hooks|internal\/async_local_storage|internal\/async_context_frame)/, 'async context'],
  [/^node:internal\/(timers|process\/task_queues)|^node:timers/, 'timers + microtask queue'],
  [/^node:/, 'Node (other)'],
];

export const byPackage: Categorise = (stack) => {
  const leaf = stack[0];
  if (leaf && SPECIAL.has(leaf.functionName)) return leaf.functionName;
  for (const frame of stack) {
    if (!frame.url) continue;
    for (const [pattern, category] of URL_CATEGORIES) if (pattern.test(frame.url)) return category;
    return 'other';
  }
  return leaf?.functionName === 'postMessage' ? 'thread messaging' : '(native, no script frame)';
};

/** The innermost function, with its file (for the list of the heaviest functions). */
export const byFunction: Categorise = (stack) => {
  const leaf = stack[0];
  if (!leaf) return '?';
  const where = leaf.url ? ` ${leaf.url.replace(/^.*node_modules\//, '').replace(/^.*\/dist\//, 'dist/').replace(/^file:\/\//, '')}:${leaf.lineNumber + 1}` : '';
  return `${leaf.functionName || '(anonymous)'}${where}`;
};

/** Microseconds by category over some samples. */
export function tally(samples: readonly Sample[], categorise: Categorise): Map<string, number> {
  const totals = new Map<string, number>();
  for (const sample of samples) {
    const category = categorise(sample.stack);
    totals.set(category, (totals.get(category) ?? 0) + sample.durationUs);
  }
  return new Map([...totals].sort((a, b) => b[1] - a[1]));
}
