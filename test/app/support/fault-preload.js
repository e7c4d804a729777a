'use strict';
/**
 * Fault injection for process tests, loaded from outside the service: the test starts the child with
 * NODE_OPTIONS="--require <this file>", and Node runs --require preloads in worker threads too. In
 * the inference worker thread it wraps onnxruntime's InferenceSession.prototype.run so that one run
 * (or every run from one on) misbehaves; the main thread is left alone. Nothing in app/ knows.
 *
 *   EMBEDDING_FAULT="<action>@<n>"   the n-th run of the process (counted across worker threads)
 *   EMBEDDING_FAULT="<action>@<n>+"  the n-th run and every one after it
 *   EMBEDDING_FAULT_COUNTER=<file>   where runs are counted, so a replacement thread continues the count
 *   EMBEDDING_FAULT_BLOCK_S=<s>      how long `block` holds the thread (default 20)
 *
 * Actions: exit (the thread exits with code 70), crash (an uncaught exception in the thread),
 * reject (the run fails; the thread lives), hang (the run never settles; the thread stays idle),
 * block (the thread is stuck in a native call, which worker.terminate() cannot interrupt).
 */
const { isMainThread } = require('node:worker_threads');

const spec = process.env.EMBEDDING_FAULT;
if (!isMainThread && spec) {
  const match = /^(exit|crash|reject|hang|block)@(\d+)(\+?)$/.exec(spec);
  if (!match) throw new Error(`EMBEDDING_FAULT must look like exit@2 or hang@1+, got ${spec}`);
  const [, action, nth, fromThenOn] = match;
  const fs = require('node:fs');
  const counter = process.env.EMBEDDING_FAULT_COUNTER;
  let localRuns = 0;
  const countRun = () => {
    if (!counter) return ++localRuns;
    fs.appendFileSync(counter, '.');
    return fs.statSync(counter).size;
  };

  const ort = require('onnxruntime-node');
  const run = ort.InferenceSession.prototype.run;
  ort.InferenceSession.prototype.run = function faultyRun(...args) {
    const n = countRun();
    if (fromThenOn ? n < Number(nth) : n !== Number(nth)) return run.apply(this, args);
    switch (action) {
      case 'exit':
        process.exit(70);
        break;
      case 'crash':
        setImmediate(() => {
          throw new Error('injected crash in the inference worker');
        });
        return new Promise(() => {});
      case 'reject':
        return Promise.reject(new Error('injected inference error'));
      case 'hang':
        return new Promise(() => {});
      case 'block':
        require('node:child_process').execFileSync('sleep', [process.env.EMBEDDING_FAULT_BLOCK_S || '20']);
        return run.apply(this, args);
    }
    return run.apply(this, args);
  };
}
