/**
 * The production model download, against a fake hub on 127.0.0.1 (no machine here reaches the
 * real one). Loopback only; every case bounded in time.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MODEL_FILES, REQUIRED_FILES, modelPath } from '../../../app/model/layout';
import {
  ModelDownloadError,
  downloadModel,
  resolveUrl,
  type DownloadModelOptions,
} from '../../../app/provisioning/download';
import { ALL_MINILM_L6_V2, parseModelPin, type ModelPin } from '../../../app/provisioning/manifest';
import { createStderrProgress, formatProgress, type DownloadProgress } from '../../../app/provisioning/progress';
import { missingModelFiles, offlineFixes } from '../../../app/provisioning/provision';
import { closedPort, fakeModelFiles, sha256, startFakeHub, type FakeHub } from '../support/fake-hub';
import { TEST_BUILD_DIR } from '../support/paths';

const ROOT = path.resolve(__dirname, '../../..');
const FAST = { retryDelayMs: 20, idleTimeoutMs: 2_000 } satisfies Partial<DownloadModelOptions>;

let hub: FakeHub;
let work: string;

beforeEach(async () => {
  hub = await startFakeHub();
  work = await mkdtemp(path.join(os.tmpdir(), 'model-download-'));
});

afterEach(async () => {
  await hub.close();
  await rm(work, { recursive: true, force: true });
});

/** Every file under dir, relative, '/'-separated (temp files included: they start with '.'). */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath ?? e.path, e.name)).split(path.sep).join('/'))
    .sort();
}

const partFiles = async (dir: string): Promise<string[]> => (await listFiles(dir)).filter((f) => f.endsWith('.part'));
/** Every required file and the ONNX file are in `dir`, as the service's start-up sees them. */
const hasModel = async (dir: string, onnxFile?: string): Promise<boolean> => (await missingModelFiles(dir, onnxFile)).length === 0;
const requiredPaths = (pin: ModelPin): string[] => pin.files.filter((f) => !f.optional).map((f) => f.path);

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

async function expectDownloadError(promise: Promise<unknown>): Promise<ModelDownloadError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelDownloadError);
  return error as ModelDownloadError;
}

describe('ALL_MINILM_L6_V2 (the production pin)', () => {
  it('is well-formed: 40-hex revision, 64-hex hashes, every required file and the ONNX model pinned', () => {
    expect(ALL_MINILM_L6_V2.repo).toBe('sentence-transformers/all-MiniLM-L6-v2');
    expect(ALL_MINILM_L6_V2.revision).toMatch(/^[0-9a-f]{40}$/);
    for (const file of ALL_MINILM_L6_V2.files) {
      expect(file.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(Number.isSafeInteger(file.size) && file.size > 0).toBe(true);
    }
    const mandatory = requiredPaths(ALL_MINILM_L6_V2);
    for (const file of [...REQUIRED_FILES, MODEL_FILES.onnxModel]) expect(mandatory).toContain(file);
    expect(ALL_MINILM_L6_V2.files.find((f) => f.path === 'onnx/model_quint8_avx2.onnx')?.optional).toBe(true);
    expect(ALL_MINILM_L6_V2.files.find((f) => f.path === MODEL_FILES.onnxModel)?.size).toBe(90405214);
    // parseModelPin accepts it unchanged (and is what --manifest files go through).
    expect(parseModelPin(JSON.parse(JSON.stringify(ALL_MINILM_L6_V2)))).toEqual(ALL_MINILM_L6_V2);
  });

  it('parseModelPin rejects a moving revision, bad hashes and paths that leave the directory, all at once', () => {
    const bad = {
      repo: 'sentence-transformers/all-MiniLM-L6-v2',
      revision: 'main',
      files: [
        { path: '../etc/passwd', size: 1, sha256: 'a'.repeat(64) },
        { path: 'x.json', size: 1, sha256: 'ABC' },
      ],
    };
    expect(() => parseModelPin(bad)).toThrow(/revision must be a 40-hex[\s\S]*files\[0\]\.path[\s\S]*files\[1\]\.sha256/);
  });

  it('builds hub URLs as <endpoint>/<repo>/resolve/<revision>/<path>', () => {
    expect(resolveUrl('https://huggingface.co/', ALL_MINILM_L6_V2, '1_Pooling/config.json')).toBe(
      'https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2/resolve/c9745ed1d9f207416be6d2e6f8de32d1f16199bf/1_Pooling/config.json',
    );
  });
});

describe('downloadModel against a fake hub', () => {
  it('installs every required file with the right bytes and layout, following the LFS redirect, and leaves no temp file', async () => {
    const progress: DownloadProgress[] = [];
    const dir = path.join(work, 'model');
    const result = await downloadModel({ dir, pin: hub.pin, endpoint: hub.url, onProgress: (p) => progress.push(p), ...FAST });

    const expected = requiredPaths(hub.pin);
    expect(result.downloaded.sort()).toEqual([...expected].sort());
    expect(result.skipped).toEqual([]);
    expect(await listFiles(dir)).toEqual([...expected].sort());
    for (const file of fakeModelFiles().filter((f) => !f.optional)) {
      expect((await readFile(modelPath(dir, file.path))).equals(file.body)).toBe(true);
    }
    expect(await exists(path.join(dir, 'onnx', 'model_quint8_avx2.onnx'))).toBe(false);
    // The ONNX file went through the 302 to the fake CDN.
    expect(hub.requests.some((r) => r.startsWith('/cdn-lfs/'))).toBe(true);
    // One final progress call per file, with everything received.
    for (const file of hub.pin.files.filter((f) => !f.optional)) {
      const finals = progress.filter((p) => p.file === file.path && p.received === p.total);
      expect(finals).toEqual([{ file: file.path, received: file.size, total: file.size }]);
    }
    expect(await hasModel(dir)).toBe(true);
    expect(await hasModel(dir, 'onnx/model_quint8_avx2.onnx')).toBe(false);
  });

  it('skips everything on a second run, and re-downloads a present file whose hash is wrong', async () => {
    const dir = path.join(work, 'model');
    await downloadModel({ dir, pin: hub.pin, endpoint: hub.url, ...FAST });
    const before = hub.requests.length;

    const second = await downloadModel({ dir, pin: hub.pin, endpoint: hub.url, ...FAST });
    expect(second.downloaded).toEqual([]);
    expect(second.skipped.sort()).toEqual(requiredPaths(hub.pin).sort());
    expect(hub.requests.length).toBe(before);

    const vocab = fakeModelFiles().find((f) => f.path === 'vocab.txt')!;
    const tampered = Buffer.from(vocab.body);
    tampered[0] = 0x21; // same size, other bytes
    await writeFile(modelPath(dir, 'vocab.txt'), tampered);
    const third = await downloadModel({ dir, pin: hub.pin, endpoint: hub.url, ...FAST });
    expect(third.downloaded).toEqual(['vocab.txt']);
    expect((await readFile(modelPath(dir, 'vocab.txt'))).equals(vocab.body)).toBe(true);
  });

  it('fetches an optional file only when included, and refuses an unknown include', async () => {
    const dir = path.join(work, 'model');
    const result = await downloadModel({
      dir,
      pin: hub.pin,
      endpoint: hub.url,
      include: ['onnx/model_quint8_avx2.onnx'],
      ...FAST,
    });
    expect(result.downloaded).toContain('onnx/model_quint8_avx2.onnx');
    expect(await hasModel(dir, 'onnx/model_quint8_avx2.onnx')).toBe(true);
    await expect(downloadModel({ dir, pin: hub.pin, endpoint: hub.url, include: ['onnx/nope.onnx'] })).rejects.toThrow(
      /onnx\/nope\.onnx.*optional files are: onnx\/model_quint8_avx2\.onnx/,
    );
  });

  it('a wrong checksum leaves nothing at the final path, no .part file, and names the file and both hashes', async () => {
    const dir = path.join(work, 'model');
    const model = hub.pin.files.find((f) => f.path === MODEL_FILES.onnxModel)!;
    hub.script(MODEL_FILES.onnxModel, 'corrupt');
    const error = await expectDownloadError(downloadModel({ dir, pin: hub.pin, endpoint: hub.url, ...FAST }));

    const served = Buffer.from(fakeModelFiles().find((f) => f.path === MODEL_FILES.onnxModel)!.body);
    served[served.length - 1] = (served[served.length - 1] ?? 0) ^ 0xff;
    expect(error.reason).toBe('checksum');
    expect(error.file).toBe(MODEL_FILES.onnxModel);
    expect(error.message).toContain(MODEL_FILES.onnxModel);
    expect(error.message).toContain(resolveUrl(hub.url, hub.pin, MODEL_FILES.onnxModel));
    expect(error.message).toContain(`expected sha256 ${model.sha256}`);
    expect(error.message).toContain(`got sha256 ${sha256(served)}`);
    // Not transient: the same revision gives the same bytes, so it was not fetched again.
    expect(hub.resolveCount(MODEL_FILES.onnxModel)).toBe(1);
    expect(await exists(modelPath(dir, MODEL_FILES.onnxModel))).toBe(false);
    expect(await partFiles(dir)).toEqual([]);
    expect(await hasModel(dir)).toBe(false);
  });

  it('a pin whose size disagrees with Content-Length fails before writing anything', async () => {
    const dir = path.join(work, 'model');
    const pin: ModelPin = {
      ...hub.pin,
      files: hub.pin.files.map((f) => (f.path === 'config.json' ? { ...f, size: f.size + 1 } : f)),
    };
    const error = await expectDownloadError(downloadModel({ dir, pin, endpoint: hub.url, ...FAST }));
    expect(error.reason).toBe('size');
    expect(error.message).toMatch(/config\.json.*expected \d+ bytes.*Content-Length \d+/);
    expect(await exists(modelPath(dir, 'config.json'))).toBe(false);
    expect(await partFiles(dir)).toEqual([]);
  });

  it('a cut-off transfer (socket destroyed halfway) is retried, then leaves nothing and says so', async () => {
    const dir = path.join(work, 'model');
    hub.script(MODEL_FILES.onnxModel, 'truncate', 'truncate', 'truncate');
    const error = await expectDownloadError(downloadModel({ dir, pin: hub.pin, endpoint: hub.url, ...FAST }));
    expect(error.reason).toBe('network');
    expect(error.attempts).toBe(3);
    expect(hub.resolveCount(MODEL_FILES.onnxModel)).toBe(3);
    expect(error.message).toMatch(/onnx\/model\.onnx from http:\/\/127\.0\.0\.1:\d+\/.*expected 300000 bytes, got a network error after \d+ bytes.*\(after 3 attempts\)/);
    expect(await exists(modelPath(dir, MODEL_FILES.onnxModel))).toBe(false);
    expect(await partFiles(dir)).toEqual([]);
  });

  it('a cut-off transfer followed by a good one succeeds', async () => {
    const dir = path.join(work, 'model');
    hub.script(MODEL_FILES.onnxModel, 'truncate');
    const result = await downloadModel({ dir, pin: hub.pin, endpoint: hub.url, ...FAST });
    expect(result.downloaded).toContain(MODEL_FILES.onnxModel);
    expect(hub.resolveCount(MODEL_FILES.onnxModel)).toBe(2);
    expect(await partFiles(dir)).toEqual([]);
    expect(await hasModel(dir)).toBe(true);
  });

  it('a stalled transfer times out, is retried, and leaves nothing', async () => {
    const dir = path.join(work, 'model');
    hub.script('vocab.txt', 'stall', 'stall');
    const error = await expectDownloadError(
      downloadModel({ dir, pin: hub.pin, endpoint: hub.url, attempts: 2, retryDelayMs: 10, idleTimeoutMs: 200 }),
    );
    expect(error.reason).toBe('network');
    expect(error.message).toMatch(/vocab\.txt.*stalled.*\(after 2 attempts\)/);
    expect(await exists(modelPath(dir, 'vocab.txt'))).toBe(false);
    expect(await partFiles(dir)).toEqual([]);
  });

  it('a 404 fails at once with a clear error and no retry', async () => {
    const dir = path.join(work, 'model');
    const pin: ModelPin = {
      ...hub.pin,
      files: [...hub.pin.files, { path: 'onnx/missing.onnx', size: 10, sha256: 'b'.repeat(64) }],
    };
    const error = await expectDownloadError(downloadModel({ dir, pin, endpoint: hub.url, ...FAST }));
    expect(error.reason).toBe('http');
    expect(error.status).toBe(404);
    expect(error.attempts).toBe(1);
    expect(hub.resolveCount('onnx/missing.onnx')).toBe(1);
    expect(error.message).toMatch(/onnx\/missing\.onnx from http:\/\/127\.0\.0\.1:\d+\/.*\/onnx\/missing\.onnx: expected HTTP 200 with 10 bytes, got HTTP 404.*EntryNotFound/);
    expect(await partFiles(dir)).toEqual([]);
  });

  it('a transient 503 (and a 429) is retried and then succeeds', async () => {
    const dir = path.join(work, 'model');
    hub.script('tokenizer.json', 503);
    hub.script(MODEL_FILES.onnxModel, 429);
    const result = await downloadModel({ dir, pin: hub.pin, endpoint: hub.url, ...FAST });
    expect(result.downloaded).toEqual(expect.arrayContaining(['tokenizer.json', MODEL_FILES.onnxModel]));
    expect(hub.resolveCount('tokenizer.json')).toBe(2);
    expect(hub.resolveCount(MODEL_FILES.onnxModel)).toBe(2);
    expect(await hasModel(dir)).toBe(true);
    expect(await partFiles(dir)).toEqual([]);
  });

  it('a 503 that persists gives up after 3 attempts', async () => {
    const dir = path.join(work, 'model');
    hub.script('config.json', 503, 503, 503, 503);
    const error = await expectDownloadError(downloadModel({ dir, pin: hub.pin, endpoint: hub.url, ...FAST }));
    expect(error.status).toBe(503);
    expect(hub.resolveCount('config.json')).toBe(3);
    expect(error.message).toMatch(/config\.json.*got HTTP 503.*\(after 3 attempts\)/);
  });

  it('an abort stops the download, removes the temp file and is not retried', async () => {
    const dir = path.join(work, 'model');
    hub.script(MODEL_FILES.onnxModel, 'stall');
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error('test abort')), 300);
    try {
      const error = await expectDownloadError(
        downloadModel({ dir, pin: hub.pin, endpoint: hub.url, signal: controller.signal, ...FAST, idleTimeoutMs: 10_000 }),
      );
      expect(error.reason).toBe('aborted');
      expect(hub.resolveCount(MODEL_FILES.onnxModel)).toBe(1);
    } finally {
      clearTimeout(timer);
    }
    expect(await exists(modelPath(dir, MODEL_FILES.onnxModel))).toBe(false);
    expect(await partFiles(dir)).toEqual([]);
  });

  it('an unreachable endpoint fails with a network error; the start-up fixes begin with the one that works offline', async () => {
    const dir = path.join(work, 'model');
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const error = await expectDownloadError(downloadModel({ dir, pin: hub.pin, endpoint, ...FAST }));
    expect(error.reason).toBe('network');
    expect(error.message).toMatch(/from http:\/\/127\.0\.0\.1:\d+\/.*expected an HTTP response, got a network error: .*ECONNREFUSED/);
    expect(await exists(dir)).toBe(false);

    const fixes = offlineFixes(dir);
    expect(fixes[0]).toMatch(/^offline: `npm run model:synthetic -- \.\/models\/synthetic`, then start with EMBEDDING_MODEL_DIR=\.\/models\/synthetic/);
    const text = fixes.join('\n');
    expect(text).toContain('EMBEDDING_MODEL_DIR');
    expect(text).toContain('HF_ENDPOINT');
    expect(text).toContain(dir);
    expect(text).toContain('npm run model:fetch -- <dir>');
    expect(text).toMatch(/Docker image/);
  });
});

describe('a failed download leaves no empty folder behind', () => {
  it('removes every folder it created, up to the first missing parent, when nothing was installed', async () => {
    const dir = path.join(work, 'models', 'nested', 'model');
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    await expectDownloadError(downloadModel({ dir, pin: hub.pin, endpoint, ...FAST }));
    expect(await readdir(work)).toEqual([]);
  });

  it('keeps the files it verified (the next run skips them) and removes the folders left empty', async () => {
    const dir = path.join(work, 'model');
    hub.script(MODEL_FILES.poolingConfig, 404);
    const error = await expectDownloadError(downloadModel({ dir, pin: hub.pin, endpoint: hub.url, ...FAST }));
    expect(error.file).toBe(MODEL_FILES.poolingConfig);
    const left = await listFiles(dir);
    expect(left).toContain(MODEL_FILES.onnxModel);
    expect(left).not.toContain(MODEL_FILES.poolingConfig);
    expect(await exists(path.join(dir, '1_Pooling'))).toBe(false);
    expect(await partFiles(dir)).toEqual([]);
  });

  it('never removes a folder that existed before', async () => {
    const dir = path.join(work, 'existing');
    await mkdir(dir);
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    await expectDownloadError(downloadModel({ dir, pin: hub.pin, endpoint, ...FAST }));
    expect(await exists(dir)).toBe(true);
  });
});

describe('progress printer', () => {
  it('formats sizes in MB with a percentage, and prints 10% steps when not on a terminal', () => {
    expect(formatProgress({ file: 'onnx/model.onnx', received: 47_290_000, total: 90405214 })).toBe(
      'model: onnx/model.onnx 45.1/86.2 MB (52%)',
    );
    const lines: string[] = [];
    const stream = { isTTY: false, write: (s: string) => lines.push(s) } as unknown as NodeJS.WritableStream;
    const print = createStderrProgress({ stream });
    for (let received = 0; received <= 1000; received += 50) print({ file: 'a', received, total: 1000 });
    expect(lines.length).toBe(11);
    expect(lines.at(-1)).toBe('model: a 0.0/0.0 MB (100%)\n');
  });
});

describe('fetch-model CLI (a real child process)', () => {
  // Compiled by jest's global setup from the current sources.
  const cli = (args: string[], env: Record<string, string>): Promise<RunResult> =>
    run(process.execPath, [path.join(TEST_BUILD_DIR, 'app/cli/fetch-model.js'), ...args], env, 30_000);

  async function writePin(pin: ModelPin): Promise<string> {
    const file = path.join(work, 'pin.json');
    await writeFile(file, JSON.stringify(pin));
    return file;
  }

  it('installs the model from HF_ENDPOINT and exits 0 with a one-line summary', async () => {
    const dir = path.join(work, 'model');
    const result = await cli([dir, '--manifest', await writePin(hub.pin), '--include', 'onnx/model_quint8_avx2.onnx'], {
      HF_ENDPOINT: hub.url,
    });
    expect(result.code).toBe(0);
    const summary = result.stderr.trim().split('\n').at(-1);
    expect(summary).toMatch(/^model: sentence-transformers\/all-MiniLM-L6-v2@0123456 in .*: 11 files verified \(11 downloaded, 0 already present\)/);
    expect(await hasModel(dir)).toBe(true);
    expect(await hasModel(dir, 'onnx/model_quint8_avx2.onnx')).toBe(true);
    expect(await partFiles(dir)).toEqual([]);
  });

  it('takes the directory from EMBEDDING_MODEL_DIR', async () => {
    const dir = path.join(work, 'from-env');
    const result = await cli(['--manifest', await writePin(hub.pin), '--quiet'], { HF_ENDPOINT: hub.url, EMBEDDING_MODEL_DIR: dir });
    expect(result.code).toBe(0);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(await hasModel(dir)).toBe(true);
  });

  it('exits 1 with one line and no stack trace when the hub cannot be reached', async () => {
    const dir = path.join(work, 'model');
    const result = await cli([dir, '--manifest', await writePin(hub.pin)], { HF_ENDPOINT: `http://127.0.0.1:${await closedPort()}` });
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^fetch-model: model download failed: .*ECONNREFUSED.*HF_ENDPOINT/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(await exists(dir)).toBe(false);
  });

  it('--help prints the usage on stdout and exits 0', async () => {
    const result = await cli(['--help'], {});
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^usage: fetch-model \[dir\]/);
    expect(result.stdout).toContain('--include');
    expect(result.stderr).toBe('');
  });

  it('exits 2 on bad usage', async () => {
    const unknownOption = await cli(['--frobnicate'], { HF_ENDPOINT: hub.url });
    expect(unknownOption.code).toBe(2);
    const badInclude = await cli([path.join(work, 'm'), '--include', 'nope.onnx'], { HF_ENDPOINT: hub.url });
    expect(badInclude.code).toBe(2);
    expect(badInclude.stderr).toContain('nope.onnx');
    const twoDirs = await cli(['a', 'b'], { HF_ENDPOINT: hub.url });
    expect(twoDirs.code).toBe(2);
    expect(hub.requests).toEqual([]);
  });
});

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a child asynchronously (the fake hub lives in this process) with a hard time limit. */
function run(command: string, args: string[], env: Record<string, string>, timeoutMs: number, cwd = ROOT): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const base: NodeJS.ProcessEnv = { ...process.env };
    delete base.EMBEDDING_MODEL_DIR;
    delete base.HF_ENDPOINT;
    const child = spawn(command, args, { cwd, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
