import fs from 'node:fs';
import path from 'node:path';

/**
 * The repository's own folders, found from this file's location (scripts/ when run by ts-jest,
 * dist/scripts/ when compiled), never from the current directory.
 */
function findRepoRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}

export const REPO_ROOT = findRepoRoot(__dirname);

/** all-MiniLM-L6-v2's tokenizer and config files, committed (byte-identical to the pinned hub revision). */
export const TOKENIZER_FIXTURE_DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'all-MiniLM-L6-v2');

/** Ignored folder where tests and the benchmark keep generated synthetic models between runs. */
export const SYNTHETIC_MODEL_CACHE = path.join(REPO_ROOT, '.cache', 'models');
