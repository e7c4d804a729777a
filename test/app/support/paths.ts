import path from 'node:path';
import { REPO_ROOT } from '../../../scripts/repo-paths';

export { REPO_ROOT, SYNTHETIC_MODEL_CACHE as MODEL_CACHE_ROOT, TOKENIZER_FIXTURE_DIR } from '../../../scripts/repo-paths';

/** The compiled service; jest's global setup builds it before any test runs. */
export const MAIN_JS = path.join(REPO_ROOT, 'dist', 'app', 'main.js');
