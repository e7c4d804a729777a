import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { modelPath } from '../../../app/model/layout';
import { ALL_MINILM_L6_V2 } from '../../../app/provisioning/manifest';
import { TOKENIZER_FIXTURE_DIR } from '../support/paths';

/**
 * The tokenizer and config files the repository carries (for tests, the benchmark and the synthetic
 * model) are exactly the bytes the pinned production download installs.
 */
describe('test/fixtures/all-MiniLM-L6-v2', () => {
  const pinned = ALL_MINILM_L6_V2.files.filter((file) => !file.path.startsWith('onnx/'));

  it.each(pinned.map((file) => [file.path, file]))('%s has the pinned size and sha256', async (_path, file) => {
    const bytes = await readFile(modelPath(TOKENIZER_FIXTURE_DIR, file.path));
    expect(bytes.length).toBe(file.size);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(file.sha256);
  });

  it('holds those files, the Apache-2.0 license and a notice, nothing else (and no weights)', async () => {
    const entries = await readdir(TOKENIZER_FIXTURE_DIR, { recursive: true, withFileTypes: true });
    const files = entries
      .filter((entry) => entry.isFile())
      .map((entry) => path.relative(TOKENIZER_FIXTURE_DIR, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
      .sort();
    expect(files).toEqual([...pinned.map((file) => file.path), 'LICENSE', 'NOTICE.md'].sort());
    expect(await readFile(path.join(TOKENIZER_FIXTURE_DIR, 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0, January 2004/);
    expect(await readFile(path.join(TOKENIZER_FIXTURE_DIR, 'NOTICE.md'), 'utf8')).toContain(ALL_MINILM_L6_V2.revision);
  });
});
