import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { isJson } from '../../../bench/probe/observe';

export interface Sample {
  readonly status: number;
  readonly ms: number;
  readonly json: boolean;
  /** The error body's `detail`, when it is a string ('' otherwise). */
  readonly detail: string;
}

export type LoadPlan =
  | { readonly mode: 'closed'; readonly concurrency: number; readonly durationMs: number }
  | { readonly mode: 'open'; readonly rate: number; readonly durationMs: number; readonly maxRequests: number }
  | { readonly mode: 'burst'; readonly count: number };

/** Runs load-generator.js in its own process: POSTs `body` as JSON to `url` following `plan`. */
export function generateLoad(url: string, body: unknown, plan: LoadPlan): Promise<Sample[]> {
  const script = path.join(__dirname, 'load-generator.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'inherit'], timeout: 120_000 });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) {
        reject(new Error(`load generator exited with ${code}`));
        return;
      }
      const rows = JSON.parse(stdout) as Array<[number, number, boolean, string]>;
      resolve(rows.map(([status, ms, json, detail]) => ({ status, ms, json, detail })));
    });
    child.stdin.end(JSON.stringify({ url, body, ...plan }));
  });
}

/** Sends one request and times it; a failed connection counts as status 0. */
export async function timed(send: () => Promise<Response>): Promise<Sample> {
  const started = performance.now();
  try {
    const response = await send();
    const text = await response.text();
    return { status: response.status, ms: performance.now() - started, json: isJson(text), detail: detailOf(text) };
  } catch {
    return { status: 0, ms: performance.now() - started, json: false, detail: '' };
  }
}

function detailOf(text: string): string {
  try {
    const parsed = JSON.parse(text) as { detail?: unknown } | null;
    return typeof parsed?.detail === 'string' ? parsed.detail : '';
  } catch {
    return '';
  }
}

/** Shared with the probe. */
export { isJson };

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/** The process's peak resident set (VmHWM in /proc/<pid>/status), in MB. */
export function peakRssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1]);
  return Math.round(kb / 1024);
}

/** Polls every `everyMs` (one probe at a time) until `stop` settles. */
export async function probeWhile(stop: Promise<unknown>, everyMs: number, send: () => Promise<Sample>): Promise<Sample[]> {
  const samples: Sample[] = [];
  let done = false;
  void stop.finally(() => (done = true));
  while (!done) {
    samples.push(await send());
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return samples;
}
