'use strict';
/**
 * Jest resolver of the app project: a test that imports the service, a client, the benchmark or a tool (or
 * the infra helpers the benchmark uses) gets the module compiled by the global setup
 * (test/support/compiled.ts) instead of the TypeScript source, so the code under test is what runs
 * in production, worker threads and child processes included. Everything else (test files, support
 * code, packages) resolves as usual.
 */
const path = require('node:path');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const TEST_BUILD_DIR = path.join(REPO_ROOT, '.cache', 'test-build'); // as in compiled.ts
const COMPILED_FOLDERS = new Set(['app', 'clients', 'bench', 'scripts', 'infra']);

module.exports = (request, options) => {
  const resolved = options.defaultResolver(request, options);
  if (!resolved.endsWith('.ts')) return resolved;
  const relative = path.relative(REPO_ROOT, resolved);
  if (!COMPILED_FOLDERS.has(relative.split(path.sep)[0])) return resolved;
  return path.join(TEST_BUILD_DIR, `${relative.slice(0, -'.ts'.length)}.js`);
};
