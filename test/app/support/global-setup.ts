import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fullModelDir, smallModelDir } from './models';
import { REPO_ROOT } from './paths';

/**
 * Runs once before any test worker starts. Builds dist/ from the current sources, because the
 * inference worker thread and the service's child processes run the compiled code: without this,
 * `npx jest` after an edit would test the previous build. Then generates the synthetic models into
 * the ignored cache folder (reused across runs; tests call the same functions, which then only
 * check a marker).
 */
export default async function globalSetup(): Promise<void> {
  const tsc = require.resolve('typescript/bin/tsc', { paths: [REPO_ROOT] });
  try {
    execFileSync(process.execPath, [tsc, '-p', path.join(REPO_ROOT, 'tsconfig.json')], { cwd: REPO_ROOT, stdio: 'pipe' });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`the build (tsc -p tsconfig.json) failed:\n${stdout?.toString() ?? ''}${stderr?.toString() ?? ''}`);
  }
  await fullModelDir();
  await smallModelDir();
}
