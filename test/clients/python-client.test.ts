import { spawn } from 'node:child_process';
import path from 'node:path';
import { fullModelDir } from '../app/support/models';
import { MAIN_JS, REPO_ROOT } from '../app/support/paths';

const SUITE_DIR = path.join(REPO_ROOT, 'test', 'clients', 'python');
const BUDGET_MS = 360_000;

/**
 * The Python client's tests (test/clients/python, unittest, standard library only: numpy, httpx and
 * opentelemetry are stand-ins there) against the real service, which they start themselves as
 * `node dist/app/main.js` on the synthetic model.
 */
describe('Python embedding client (clients/python/embedding_client.py)', () => {
  it('passes its unittest suite against the real service', async () => {
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PYTHONDONTWRITEBYTECODE: '1',
      EMBEDDING_TEST_NODE: process.execPath,
      EMBEDDING_TEST_MAIN_JS: MAIN_JS,
      EMBEDDING_TEST_MODEL_DIR: await fullModelDir(),
    };
    const python = spawn('python3', ['-m', 'unittest', 'discover', '-s', SUITE_DIR, '-v'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    python.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    python.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const overdue = setTimeout(() => python.kill('SIGTERM'), BUDGET_MS); // the suite then stops the services it started
    const { code, error } = await new Promise<{ code: number | null; error?: Error }>((resolve) => {
      python.once('error', (spawnError) => resolve({ code: null, error: spawnError }));
      python.once('close', (exitCode) => resolve({ code: exitCode }));
    });
    clearTimeout(overdue);
    if (error || code !== 0) {
      throw new Error(`python3 -m unittest exited ${error ? `without starting (${error.message})` : code}:\n${output}`);
    }
    expect(output).toMatch(/\nOK\s*$/);
  }, BUDGET_MS + 30_000);
});
