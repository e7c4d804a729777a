export { REPO_ROOT, SYNTHETIC_MODEL_CACHE as MODEL_CACHE_ROOT, TOKENIZER_FIXTURE_DIR } from '../../../scripts/repo-paths';
export { COMPILED_MAIN as MAIN_JS, TEST_BUILD_DIR } from '../../support/compiled';
