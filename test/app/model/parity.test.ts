import { fullModelDir } from '../support/models';
import { PARITY_CORPUS } from '../support/corpus';
import { cosine, postJson, startTestServer, type TestServer } from '../support/server';
import { loadTokenizer } from '../../../app/model/tokenizer';
import path from 'node:path';

/**
 * Our vectors against an independent implementation on the same model: transformers.js'
 * feature-extraction pipeline (mean pooling, normalize), with its tokenizer limited to the
 * model's max_seq_length 256 (it would otherwise use model_max_length 512 from tokenizer_config.json).
 */
describe('parity with @huggingface/transformers', () => {
  let server: TestServer;
  let modelDir: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let extractor: any;

  beforeAll(async () => {
    modelDir = await fullModelDir();
    server = await startTestServer({ EMBEDDING_MODEL_DIR: modelDir });
    const transformers = await import('@huggingface/transformers');
    transformers.env.allowRemoteModels = false;
    transformers.env.localModelPath = path.dirname(modelDir);
    extractor = await transformers.pipeline('feature-extraction', path.basename(modelDir), { dtype: 'fp32' });
    // model_max_length is a getter over tokenizer_config.json (512); the model's limit is 256.
    extractor.tokenizer._tokenizerConfig.model_max_length = 256;
    expect(extractor.tokenizer.model_max_length).toBe(256);
  });
  afterAll(async () => {
    await extractor?.dispose();
    await server?.stop();
  });

  it('uses a corpus of at least 200 varied texts', () => {
    expect(PARITY_CORPUS.length).toBeGreaterThanOrEqual(200);
    expect(PARITY_CORPUS).toContain('');
    expect(PARITY_CORPUS.some((t) => t.length > 0 && t.trim() === '')).toBe(true);
  });

  /**
   * Token ids as sentence-transformers produces them, from transformers.js' own tokenizer. For texts
   * over the limit, transformers.js 4.3 truncates after adding special tokens and so drops the final
   * [SEP]; Hugging Face's Rust tokenizers (what sentence-transformers uses) truncate the word pieces
   * and keep [CLS] ... [SEP]. So those are tokenised without special tokens to 254 and wrapped.
   */
  const referenceIds = (text: string): { ids: number[]; truncated: boolean } => {
    const plain: number[] = extractor.tokenizer(text).input_ids.tolist()[0].map(Number);
    if (plain.length <= 256) return { ids: plain, truncated: false };
    const pieces: number[] = extractor.tokenizer(text, { add_special_tokens: false, truncation: true, max_length: 254 }).input_ids.tolist()[0].map(Number);
    const [cls, sep] = extractor.tokenizer('').input_ids.tolist()[0].map(Number);
    return { ids: [cls, ...pieces, sep], truncated: true };
  };

  /** The reference vector: transformers.js' pipeline, or for truncated texts its model + mean_pooling + normalize on the ids above. */
  const referenceVector = async (text: string): Promise<Float32Array> => {
    const { ids, truncated } = referenceIds(text);
    if (!truncated) return (await extractor(text, { pooling: 'mean', normalize: true })).data as Float32Array;
    const { Tensor, mean_pooling } = await import('@huggingface/transformers');
    const dims = [1, ids.length];
    const input_ids = new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), dims);
    const attention_mask = new Tensor('int64', new BigInt64Array(ids.length).fill(1n), dims);
    const token_type_ids = new Tensor('int64', new BigInt64Array(ids.length), dims);
    const { last_hidden_state } = await extractor.model({ input_ids, attention_mask, token_type_ids });
    return mean_pooling(last_hidden_state, attention_mask).normalize(2, -1).data as Float32Array;
  };

  it('produces the same token ids as the reference tokenizer, truncated at 256', async () => {
    const ours = await loadTokenizer(modelDir, 256, 20_000);
    let truncated = 0;
    for (const text of PARITY_CORPUS) {
      const reference = referenceIds(text);
      expect({ text, ids: [...ours.tokenize(text).ids] }).toEqual({ text, ids: reference.ids });
      if (reference.truncated) truncated++;
    }
    expect(truncated).toBeGreaterThanOrEqual(5);
  });

  it('returns vectors with cosine >= 0.99999 to the reference for every text', async () => {
    const ours: number[][] = [];
    for (let i = 0; i < PARITY_CORPUS.length; i += 100) {
      const { status, body } = await postJson(`${server.url}/embed`, { texts: PARITY_CORPUS.slice(i, i + 100) });
      expect(status).toBe(200);
      ours.push(...body.embeddings);
    }
    const worst = { cos: 1, text: '' };
    for (let i = 0; i < PARITY_CORPUS.length; i++) {
      const text = PARITY_CORPUS[i] as string;
      const c = cosine(ours[i] as number[], await referenceVector(text));
      if (c < worst.cos) Object.assign(worst, { cos: c, text });
    }
    expect(worst.cos).toBeGreaterThanOrEqual(0.99999);
  });
});
