import { fullModelDir, smallModelDir } from './models';

/**
 * Generates the synthetic models once per run, before any worker starts, into the ignored cache
 * folder (reused across runs). Tests call the same functions again, which then only check a marker.
 */
export default async function globalSetup(): Promise<void> {
  await fullModelDir();
  await smallModelDir();
}
