import { readFile } from 'node:fs/promises';
import { MODEL_FILES, modelPath } from '../../../../app/model/layout';
import { capCharacters, loadTokenizer } from '../../../../app/model/tokenizer';
import { TOKENIZER_FIXTURE_DIR } from '../../support/paths';

/** The model's real tokenizer files, as published at the pinned revision. */
describe('tokenizer on the published all-MiniLM-L6-v2 files', () => {
  it('gives the BERT ids of a short text, wrapped in [CLS] … [SEP], unpadded', async () => {
    const tokenizer = await loadTokenizer(TOKENIZER_FIXTURE_DIR, 256, 20_000);
    expect([...tokenizer.tokenize('hello world').ids]).toEqual([101, 7592, 2088, 102]);
    expect([...tokenizer.tokenize('').ids]).toEqual([101, 102]);
  });

  it("truncates at the model's max_seq_length (256), not at tokenizer.json's own truncation of 128, and never pads", async () => {
    // The published tokenizer.json declares truncation at 128 and fixed padding to 128;
    // sentence-transformers overrides both with max_seq_length 256 and batch padding, and so must we.
    const json = JSON.parse(await readFile(modelPath(TOKENIZER_FIXTURE_DIR, MODEL_FILES.tokenizer), 'utf8')) as {
      truncation: { max_length: number };
      padding: { strategy: unknown };
    };
    expect(json.truncation.max_length).toBe(128);
    expect(json.padding.strategy).toEqual({ Fixed: 128 });

    const tokenizer = await loadTokenizer(TOKENIZER_FIXTURE_DIR, 256, 20_000);
    const long = tokenizer.tokenize('word '.repeat(300)).ids;
    expect(long).toHaveLength(256);
    expect(long[0]).toBe(101);
    expect(long[255]).toBe(102);
    expect(long.slice(1, 255).every((id) => id === 2773)).toBe(true);
    const medium = tokenizer.tokenize('word '.repeat(150)).ids;
    expect(medium).toHaveLength(152);
    expect(tokenizer.tokenize('one two three').ids).toHaveLength(5);
  });

  it('caps characters at a word boundary before tokenising', () => {
    expect(capCharacters('alpha beta gamma', 100)).toBe('alpha beta gamma');
    expect(capCharacters('alpha beta gamma', 12)).toBe('alpha beta');
  });
});
