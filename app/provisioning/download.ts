import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_HUB_URL } from '../defaults';
import { modelPath } from '../model/layout';
import { parseRetryAfter } from '../retry-after';
import { ALL_MINILM_L6_V2, type ModelPin, type PinnedFile } from './manifest';
import type { DownloadProgress } from './progress';

export type { DownloadProgress } from './progress';
/** Re-exported so callers of the download find the printer beside it. */
export { createStderrProgress, formatProgress } from './progress';


export interface DownloadModelOptions {
  /** The model directory; created if missing. */
  dir: string;
  /** What to fetch; the production pin unless given. */
  pin?: ModelPin;
  /** Hub or mirror base URL (HF_ENDPOINT); https://huggingface.co unless given. */
  endpoint?: string;
  /** Optional files of the pin to fetch as well, by path (e.g. 'onnx/model_quint8_avx2.onnx'). */
  include?: string[];
  /** Called at most every 250 ms per file while bytes arrive, plus once when a file is complete. */
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
  fetchImpl?: typeof fetch;
  /** Attempts per file for transient failures (network error, 5xx, 429, stall). Default 3. */
  attempts?: number;
  /** Backoff before the 2nd attempt; doubled for each later one. Default 500 ms. */
  retryDelayMs?: number;
  /** An attempt that receives nothing (headers or body bytes) for this long fails as transient. Default 30 s. */
  idleTimeoutMs?: number;
}

export interface DownloadModelResult {
  /** Paths fetched in this run (including present files that failed their checksum). */
  downloaded: string[];
  /** Paths already present with the pinned sha256. */
  skipped: string[];
}

export type ModelDownloadFailure = 'network' | 'http' | 'size' | 'checksum' | 'aborted' | 'filesystem';

export interface ModelDownloadErrorDetails {
  /** Path of the file inside the model directory. */
  file: string;
  /** The URL requested (before any redirect). */
  url: string;
  reason: ModelDownloadFailure;
  /** HTTP status of the final response, for reason 'http'. */
  status?: number;
  /** Attempts made for this file. */
  attempts: number;
}

/**
 * A model file could not be installed. Nothing was left at its final path (nor any temp file).
 * The message names the file, the URL, what was expected and what came.
 */
export class ModelDownloadError extends Error {
  override readonly name = 'ModelDownloadError';
  readonly file: string;
  readonly url: string;
  readonly reason: ModelDownloadFailure;
  readonly status: number | undefined;
  readonly attempts: number;

  constructor(message: string, details: ModelDownloadErrorDetails, options?: { cause?: unknown }) {
    super(message, options);
    this.file = details.file;
    this.url = details.url;
    this.reason = details.reason;
    this.status = details.status;
    this.attempts = details.attempts;
  }
}

/** `${endpoint}/${repo}/resolve/${revision}/${path}`, each path segment URL-encoded. */
export function resolveUrl(endpoint: string, pin: Pick<ModelPin, 'repo' | 'revision'>, file: string): string {
  const base = endpoint.replace(/\/+$/, '');
  const encode = (value: string): string => value.split('/').map(encodeURIComponent).join('/');
  return `${base}/${encode(pin.repo)}/resolve/${encodeURIComponent(pin.revision)}/${encode(file)}`;
}

/** Downloads the pinned files into `dir`, verified and atomically renamed into place. */
export async function downloadModel(options: DownloadModelOptions): Promise<DownloadModelResult> {
  const pin = options.pin ?? ALL_MINILM_L6_V2;
  const endpoint = (options.endpoint ?? DEFAULT_HUB_URL).replace(/\/+$/, '');
  const include = options.include ?? [];
  const fetchImpl = options.fetchImpl ?? fetch;
  const attempts = Math.max(1, Math.floor(options.attempts ?? 3));
  const retryDelayMs = Math.max(0, options.retryDelayMs ?? 500);
  const idleTimeoutMs = Math.max(1, options.idleTimeoutMs ?? 30_000);

  const optionalPaths = pin.files.filter((f) => f.optional === true).map((f) => f.path);
  const unknown = include.filter((p) => !pin.files.some((f) => f.path === p));
  if (unknown.length > 0) {
    throw new RangeError(
      `include: ${unknown.join(', ')} not in the pin of ${pin.repo}; optional files are: ${optionalPaths.join(', ') || 'none'}`,
    );
  }
  const wanted = pin.files.filter((f) => f.optional !== true || include.includes(f.path));

  const result: DownloadModelResult = { downloaded: [], skipped: [] };
  const createdDirs: string[] = [];
  const ensureDir = async (dir: string): Promise<void> => {
    const first = await mkdir(dir, { recursive: true });
    if (first !== undefined) createdDirs.push(first);
  };
  try {
    await ensureDir(options.dir);
    for (const file of wanted) {
      const url = resolveUrl(endpoint, pin, file.path);
      throwIfAborted(options.signal, file.path, url, 0);
      const target = modelPath(options.dir, file.path);
      if (await isIntact(target, file)) {
        result.skipped.push(file.path);
        continue;
      }
      await ensureDir(path.dirname(target));
      await fetchWithRetries({ file, url, target, fetchImpl, attempts, retryDelayMs, idleTimeoutMs, options });
      result.downloaded.push(file.path);
    }
  } catch (error) {
    // Verified files stay (the next run skips them); folders this run created and left empty go.
    for (const dir of createdDirs.reverse()) await removeEmptyDirs(dir);
    throw error;
  }
  return result;
}

/** Removes `dir` and its subfolders bottom-up where they hold no file; best effort. */
async function removeEmptyDirs(dir: string): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) if (entry.isDirectory()) await removeEmptyDirs(path.join(dir, entry.name));
  await rmdir(dir).catch(() => undefined);
}

/** A present file counts only with the pinned size and sha256. */
async function isIntact(target: string, file: PinnedFile): Promise<boolean> {
  try {
    const info = await stat(target);
    if (!info.isFile() || info.size !== file.size) return false;
  } catch {
    return false;
  }
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(target)) hash.update(chunk as Buffer);
  } catch {
    return false;
  }
  return hash.digest('hex') === file.sha256;
}

interface FetchJob {
  file: PinnedFile;
  url: string;
  target: string;
  fetchImpl: typeof fetch;
  attempts: number;
  retryDelayMs: number;
  idleTimeoutMs: number;
  options: DownloadModelOptions;
}

/** A failure of one attempt; `retryable` says whether another attempt could fare better. */
class AttemptError extends Error {
  constructor(
    message: string,
    readonly reason: ModelDownloadFailure,
    readonly retryable: boolean,
    readonly extra: { status?: number; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: extra.cause });
  }
}

async function fetchWithRetries(job: FetchJob): Promise<void> {
  const { file, url, options } = job;
  for (let attempt = 1; ; attempt += 1) {
    throwIfAborted(options.signal, file.path, url, attempt - 1);
    try {
      await fetchOnce(job);
      return;
    } catch (error) {
      const failure = toAttemptError(error, options.signal);
      const last = attempt >= job.attempts || !failure.retryable;
      if (last) {
        const tries = attempt > 1 ? ` (after ${attempt} attempts)` : '';
        throw new ModelDownloadError(
          `model download failed: ${file.path} from ${url}: ${failure.message}${tries}`,
          { file: file.path, url, reason: failure.reason, status: failure.extra.status, attempts: attempt },
          { cause: failure.extra.cause ?? failure },
        );
      }
      const backoff = job.retryDelayMs * 2 ** (attempt - 1);
      await sleep(Math.max(backoff, Math.min(failure.extra.retryAfterMs ?? 0, 10_000)), options.signal).catch(() => {
        throwIfAborted(options.signal, file.path, url, attempt);
      });
    }
  }
}

/** One attempt: request, stream to a temp file while hashing, verify, fsync, rename. */
async function fetchOnce(job: FetchJob): Promise<void> {
  const { file, url, target, options } = job;
  const dir = path.dirname(target);

  // One controller per attempt: aborted by the caller's signal or when nothing arrives in time.
  const attempt = new AbortController();
  const onAbort = (): void => attempt.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let stalled = false;
  let idle: NodeJS.Timeout | undefined;
  const arm = (): void => {
    if (idle !== undefined) clearTimeout(idle);
    idle = setTimeout(() => {
      stalled = true;
      attempt.abort(new Error('stalled'));
    }, job.idleTimeoutMs);
  };

  const temp = path.join(dir, `.${path.basename(target)}.${randomBytes(6).toString('hex')}.part`);
  let handle: FileHandle | undefined;
  let installed = false;
  try {
    arm();
    let response: Response;
    try {
      response = await job.fetchImpl(url, {
        redirect: 'follow',
        signal: attempt.signal,
        headers: { 'user-agent': 'embedding-service-model-fetch/1', 'accept-encoding': 'identity' },
      });
    } catch (error) {
      throw stalled
        ? new AttemptError(`no response within ${job.idleTimeoutMs} ms`, 'network', true)
        : networkFailure(error, 'an HTTP response');
    }

    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw httpFailure(response, file);
    }

    // Content-Length is checked only when it counts the bytes we will read (no content coding).
    const encoding = (response.headers.get('content-encoding') ?? 'identity').toLowerCase();
    const announced = response.headers.get('content-length');
    if (announced !== null && encoding === 'identity') {
      const length = Number(announced);
      if (Number.isSafeInteger(length) && length !== file.size) {
        await response.body?.cancel().catch(() => undefined);
        throw new AttemptError(
          `expected ${file.size} bytes (sha256 ${file.sha256}), the server announced Content-Length ${length}`,
          'size',
          false,
        );
      }
    }
    if (response.body === null) {
      throw new AttemptError(`expected ${file.size} bytes, got a response without a body`, 'size', false);
    }

    handle = await open(temp, 'wx', 0o644);
    const hash = createHash('sha256');
    let received = 0;
    let lastReport = 0;
    try {
      for await (const chunk of response.body) {
        arm();
        const bytes: Uint8Array = ArrayBuffer.isView(chunk)
          ? new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)
          : new Uint8Array(chunk as ArrayBuffer);
        received += bytes.byteLength;
        if (received > file.size) {
          throw new AttemptError(`expected ${file.size} bytes, got more than that (${received} so far)`, 'size', false);
        }
        hash.update(bytes);
        await handle.write(bytes).catch((error: unknown) => {
          throw new AttemptError(`could not write ${temp}: ${describeCause(error)}`, 'filesystem', false, { cause: error });
        });
        const now = Date.now();
        if (options.onProgress && received < file.size && now - lastReport >= 250) {
          lastReport = now;
          options.onProgress({ file: file.path, received, total: file.size });
        }
      }
    } catch (error) {
      if (error instanceof AttemptError) throw error;
      if (stalled) {
        throw new AttemptError(
          `transfer stalled: nothing received for ${job.idleTimeoutMs} ms after ${received} of ${file.size} bytes`,
          'network',
          true,
        );
      }
      throw networkFailure(error, `${file.size} bytes`, received);
    }
    if (received !== file.size) {
      // Without a Content-Length a cut-off transfer ends "cleanly": treat it as transient.
      throw new AttemptError(`expected ${file.size} bytes, got ${received} (transfer cut off)`, 'size', true);
    }
    const actual = hash.digest('hex');
    if (actual !== file.sha256) {
      // Same revision, same bytes: a mismatch is not transient (the pin or the mirror is wrong).
      throw new AttemptError(`expected sha256 ${file.sha256}, got sha256 ${actual} (${received} bytes)`, 'checksum', false);
    }

    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, target);
    installed = true;
    await syncDirectory(dir);
    options.onProgress?.({ file: file.path, received, total: file.size });
  } finally {
    if (idle !== undefined) clearTimeout(idle);
    options.signal?.removeEventListener('abort', onAbort);
    if (handle !== undefined) await handle.close().catch(() => undefined);
    if (!installed) await unlink(temp).catch(() => undefined);
  }
}

function httpFailure(response: Response, file: PinnedFile): AttemptError {
  const status = response.status;
  const hubError = response.headers.get('x-error-code') ?? response.headers.get('x-error-message');
  const detail = `${status}${response.statusText ? ` ${response.statusText}` : ''}${hubError ? ` (${hubError})` : ''}`;
  const retryable = status >= 500 || status === 429 || status === 408;
  const hint =
    status === 401 || status === 403
      ? '; the repository or revision may be gated or private'
      : status === 404
        ? '; the repository, revision or file does not exist at this endpoint'
        : '';
  return new AttemptError(`expected HTTP 200 with ${file.size} bytes, got HTTP ${detail}${hint}`, 'http', retryable, {
    status,
    retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
  });
}

function networkFailure(error: unknown, expected: string, received?: number): AttemptError {
  const got = received === undefined ? '' : ` after ${received} bytes`;
  return new AttemptError(`expected ${expected}, got a network error${got}: ${describeCause(error)}`, 'network', true, {
    cause: error,
  });
}

/** undici wraps the useful part ("connect ECONNREFUSED 127.0.0.1:9", "other side closed") in `cause`. */
function describeCause(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  // Duck-typed, not `instanceof Error`: fetch's errors may come from another realm (e.g. under jest).
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth += 1) {
    const { message, code, name, cause } = current as { message?: unknown; code?: unknown; name?: unknown; cause?: unknown };
    const text = typeof message === 'string' && message !== '' ? message : String(code ?? name ?? 'unknown error');
    if (!parts.includes(text)) parts.push(text);
    current = cause;
  }
  return parts.length > 0 ? parts.join(': ') : String(error);
}

function toAttemptError(error: unknown, signal: AbortSignal | undefined): AttemptError {
  if (signal?.aborted) return new AttemptError('aborted', 'aborted', false, { cause: signal.reason });
  if (error instanceof AttemptError) return error;
  return new AttemptError(`could not write the file: ${describeCause(error)}`, 'filesystem', false, { cause: error });
}

function throwIfAborted(signal: AbortSignal | undefined, file: string, url: string, attempts: number): void {
  if (signal?.aborted) {
    throw new ModelDownloadError(
      `model download failed: ${file} from ${url}: aborted before it completed`,
      { file, url, reason: 'aborted', attempts },
      { cause: signal.reason },
    );
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Makes the rename durable; best effort (not every platform can open a directory). */
async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // ignored: the file itself was fsynced before the rename
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
