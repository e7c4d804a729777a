/**
 * A preload (`node --require dist/bench/stage-clock.js`) that timestamps the stages of every request
 * from outside the service, as test/app/support/fault-preload.js injects faults: nothing in app/
 * knows. Node runs preloads in worker threads too, so the inference thread stamps its side. Times
 * are microseconds of the monotonic clock (`process.hrtime`), the same in every thread. Each thread
 * writes its stamps to `$STAGE_CLOCK_DIR/stages-<thread id>.json` when it exits.
 *
 * Main thread: `request` (Node's server emits the request: headers parsed), `body` (the body's
 * end), `tokenise:start`/`tokenise:end`, `post` (the run handed to the inference thread), `message`
 * (its result arrives), `end:start`/`end:done` (`res.end`: the response handed to the socket),
 * `close:start`/`close:done` (the response's close listeners: the log line).
 * Inference thread: `receive`, `run:start`/`run:end` (onnxruntime's `session.run`), `post`.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { isMainThread, parentPort, threadId, Worker } from 'node:worker_threads';

export type Stamp = readonly [event: string, atUs: number];

const dir = process.env.STAGE_CLOCK_DIR;
const stamps: Stamp[] = [];
const stamp = (event: string) => stamps.push([event, Number(process.hrtime.bigint() / 1000n)]);

type Method = (this: unknown, ...args: unknown[]) => unknown;

/** Replaces `target[name]` with a wrapper that stamps `before` (and `after`, once it returns) when `when` holds. */
function around(target: object, name: string, before: string | ((args: unknown[]) => string | undefined), after?: string): void {
  const original = (target as Record<string, Method>)[name] as Method;
  (target as Record<string, Method>)[name] = function (this: unknown, ...args: unknown[]) {
    const event = typeof before === 'string' ? before : before(args);
    if (event === undefined) return original.apply(this, args);
    stamp(event);
    try {
      return original.apply(this, args);
    } finally {
      if (after) stamp(after);
    }
  };
}

function stampMainThread(): void {
  around(http.Server.prototype, 'emit', ([event]) => (event === 'request' ? 'request' : undefined));
  around(http.IncomingMessage.prototype, 'emit', ([event]) => (event === 'end' ? 'body' : undefined));
  around(http.ServerResponse.prototype, 'end', 'end:start', 'end:done');
  around(http.ServerResponse.prototype, 'emit', ([event]) => (event === 'close' ? 'close:start' : undefined), 'close:done');
  around(Worker.prototype, 'postMessage', ([message]) => (typeof message === 'object' ? 'post' : undefined));
  around(Worker.prototype, 'emit', ([event]) => (event === 'message' ? 'message' : undefined));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Tokenizer } = require('@huggingface/tokenizers') as { Tokenizer: { prototype: object } };
  around(Tokenizer.prototype, 'encode', 'tokenise:start', 'tokenise:end');
}

function stampInferenceThread(): void {
  const port = parentPort as NonNullable<typeof parentPort>;
  const on = port.on.bind(port);
  port.on = ((event: string, listener: (...args: unknown[]) => void) =>
    on(event, event === 'message' ? (...args: unknown[]) => (stamp('receive'), listener(...args)) : listener)) as typeof port.on;
  around(port, 'postMessage', ([message]) => ((message as { type?: string })?.type === 'result' ? 'post' : undefined));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require('onnxruntime-node') as { InferenceSession: { prototype: { run: Method } } };
  const run = ort.InferenceSession.prototype.run;
  ort.InferenceSession.prototype.run = async function (this: unknown, ...args: unknown[]) {
    stamp('run:start');
    try {
      return await run.apply(this, args);
    } finally {
      stamp('run:end');
    }
  };
}

if (dir) {
  if (isMainThread) stampMainThread();
  else stampInferenceThread();
  process.on('exit', () => fs.writeFileSync(path.join(dir, `stages-${threadId}.json`), JSON.stringify(stamps)));
}
