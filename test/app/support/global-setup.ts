import { buildForTests } from '../../support/compiled';
import { fullModelDir, smallModelDir } from './models';

/**
 * Runs once before any test worker starts: transpiles the current sources for the tests (see
 * test/support/compiled.ts; only files that changed), then generates the synthetic models into the
 * ignored cache folder (reused across runs; tests call the same functions, which then only check a
 * marker).
 */
export default async function globalSetup(): Promise<void> {
  buildForTests();
  await fullModelDir();
  await smallModelDir();
}
