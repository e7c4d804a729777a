import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '../../..');
export const MODEL_CACHE_ROOT = path.join(REPO_ROOT, '.cache', 'models');
export const SHARED_MODEL_DIR = path.resolve(REPO_ROOT, '..', 'shared', 'models', 'all-MiniLM-L6-v2');
/** The compiled service; `npm test` builds it before jest runs. */
export const MAIN_JS = path.join(REPO_ROOT, 'dist', 'app', 'main.js');
