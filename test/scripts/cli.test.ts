import { spawn } from 'node:child_process';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MODEL_FILES } from '../../app/model/layout';
import { TEST_BUILD_DIR, TOKENIZER_FIXTURE_DIR } from '../app/support/paths';

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A compiled CLI (jest's global setup compiled it from the current sources) in a child process, from an unrelated directory. */
function runCli(script: string, args: string[], cwd: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(TEST_BUILD_DIR, script), ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'cli-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('every command-line tool answers --help with its usage and exit 0', () => {
  it.each([
    ['model:fetch', 'app/cli/fetch-model.js', /^usage: fetch-model/],
    ['model:synthetic', 'scripts/synthetic-model/cli.js', /^usage: npm run model:synthetic/],
    ['bench', 'bench/run.js', /^usage: npm run bench/],
  ])('%s --help', async (_name, script, usage) => {
    for (const flag of ['--help', '-h']) {
      const outcome = await runCli(script, [flag], work);
      expect(outcome).toMatchObject({ code: 0, stderr: '' });
      expect(outcome.stdout).toMatch(usage);
    }
  });
});

describe('model:synthetic', () => {
  it('run from any directory, writes a model dir from the repository tokenizer files (and nothing else of that folder)', async () => {
    const dir = path.join(work, 'small');
    const outcome = await runCli('scripts/synthetic-model/cli.js', [dir, '--small', '--seed', '3'], os.tmpdir());
    expect(outcome.code).toBe(0);
    const files = (await readdir(dir, { recursive: true })).map((f) => f.split(path.sep).join('/'));
    for (const file of Object.values(MODEL_FILES)) expect(files).toContain(file);
    expect(files).not.toContain('LICENSE');
    expect(files).not.toContain('NOTICE.md');
  });

  it('--tokenizer-dir points elsewhere; a folder without the files fails with one line, no stack', async () => {
    const copy = path.join(work, 'tokenizer-copy');
    await cp(TOKENIZER_FIXTURE_DIR, copy, { recursive: true });
    const ok = await runCli('scripts/synthetic-model/cli.js', [path.join(work, 'from-copy'), '--small', '--tokenizer-dir', copy], work);
    expect(ok.code).toBe(0);

    const empty = await mkdtemp(path.join(work, 'empty-'));
    const failed = await runCli('scripts/synthetic-model/cli.js', [path.join(work, 'bad'), '--small', '--tokenizer-dir', empty], work);
    expect(failed.code).toBe(1);
    expect(failed.stderr.trim().split('\n')).toHaveLength(1);
    expect(failed.stderr).toContain(empty);
    expect(failed.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 2 with the usage on bad usage', async () => {
    for (const args of [[], ['a', 'b'], ['dir', '--seed', '-1'], ['dir', '--frobnicate']]) {
      const outcome = await runCli('scripts/synthetic-model/cli.js', args, work);
      expect(outcome.code).toBe(2);
      expect(outcome.stderr).toContain('usage: npm run model:synthetic');
    }
  });
});
