import { spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../scripts/repo-paths';
import { untilExit } from './server-process';

/**
 * One bulk caller of the callers' re-index, as a Celery worker or Django runs it: a Python process
 * with the real client (bench/python/reindex.py: `get_embedding_client().encode(texts,
 * use_cache=False)`, as api/rag_service.py's update_event_embeddings does), on its part of a texts
 * file. Used by the mixed part of `npm run bench` and by `npm run bench:reindex`.
 */

/** The interpreter the callers' processes stand for: the standard library is enough for the client. */
export const PYTHON = '/usr/bin/python3';
const CALLER_SCRIPT = path.join(REPO_ROOT, 'bench', 'python', 'reindex.py');

/** What one caller reports (bench/python/reindex.py prints it as one JSON line). */
export interface CallerResult {
  readonly texts: number;
  readonly vectors: number;
  readonly seconds: number;
  readonly maxBatchChars: number;
  readonly requests: number;
  readonly latencyMs: { p50: number | null; p99: number | null; max: number };
  readonly serviceMs: { p50: number | null; max: number };
  readonly retries: Record<string, number>;
  readonly timeouts: number;
  /** Texts the client's local fallback model had to embed (an outage, as the client saw it). */
  readonly fallbackTexts: number;
  /** What the client logged at warning and above. */
  readonly warnings: string[];
}

export interface CallerSpec {
  /** A JSON file holding the whole re-index: a list of texts. */
  readonly textsFile: string;
  /** This caller's contiguous part of it, as a Celery task gets one. */
  readonly part: number;
  readonly parts: number;
  readonly serviceUrl: string;
  /** Client sizing overrides, e.g. ['--max-batch-chars', '4000']. */
  readonly clientArgs?: readonly string[];
}

export function runPythonCaller(spec: CallerSpec): Promise<CallerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [CALLER_SCRIPT, spec.textsFile, `${spec.part}/${spec.parts}`, ...(spec.clientArgs ?? [])], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PYTHONDONTWRITEBYTECODE: '1', EMBEDDING_SERVICE_URL: spec.serviceUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    untilExit(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`bulk caller ${spec.part}/${spec.parts} exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`));
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as CallerResult);
      } catch (error) {
        reject(error);
      }
    });
  });
}

/** `parts` callers at once, each on its part of the texts file. */
export function runPythonCallers(textsFile: string, parts: number, serviceUrl: string, clientArgs: readonly string[] = []): Promise<CallerResult[]> {
  return Promise.all(Array.from({ length: parts }, (_, part) => runPythonCaller({ textsFile, part, parts, serviceUrl, clientArgs })));
}
