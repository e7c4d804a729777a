import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The preload that patches onnxruntime's session inside the inference worker thread (see the file). */
export const FAULT_PRELOAD = path.join(__dirname, 'fault-preload.js');

/**
 * Environment for a ServiceProcess whose inference runs misbehave: `fault` is e.g. "exit@2" (the
 * second run exits the worker thread) or "hang@1+" (every run hangs). Runs are counted in a fresh
 * file, so a replacement worker continues the count.
 */
export function faultEnv(fault: string, extra: Record<string, string> = {}): Record<string, string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fault-'));
  return { NODE_OPTIONS: `--require ${FAULT_PRELOAD}`, EMBEDDING_FAULT: fault, EMBEDDING_FAULT_COUNTER: path.join(dir, 'runs'), ...extra };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` every 50 ms until it returns true; returns the ms it took, or throws after `timeoutMs`. */
export async function within(timeoutMs: number, probe: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await probe()) return Date.now() - started;
    await sleep(50);
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}
