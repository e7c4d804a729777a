/**
 * Speed sanity check of the synthetic model against the figures of a reference PyTorch export (docs/synthetic-model.md).
 * Not a test. From the repo root: `npm run build && node dist/scripts/synthetic-speed.js`.
 * Each call is tokenize + run + mean pool + normalise, as the reference measurement did.
 */
import { promises as fs } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { MODEL_FILES, modelPath } from '../app/model/layout';
import { SYNTHETIC_MODEL_CACHE } from './repo-paths';
import { ensureSyntheticModel, SYNTHETIC_INT8_FILE } from './synthetic-model';


const SHORT_TEXTS = [
  'The quick brown fox jumps over the lazy dog.',
  'How do I reset my password on the website?',
  'Concerts in the park are free every Saturday.',
  'A man is eating a piece of bread for lunch.',
  'Where can I find the schedule for next week?',
  'The library opens at nine in the morning.',
  'Children are playing football in the garden.',
  'Please send the invoice to the accounting team.',
];
const LONG_TEXT = Array.from({ length: 40 }, (_, i) => SHORT_TEXTS[i % SHORT_TEXTS.length]).join(' ');

type Encode = (texts: readonly string[], maxLength: number) => { ids: number[][]; length: number };

async function loadTokenizer(dir: string): Promise<Encode> {
  const json = JSON.parse(await fs.readFile(modelPath(dir, MODEL_FILES.tokenizer), 'utf8')) as object;
  const config = JSON.parse(await fs.readFile(modelPath(dir, MODEL_FILES.tokenizerConfig), 'utf8')) as object;
  const tokenizer = new Tokenizer(json, config);
  return (texts, maxLength) => {
    const ids = texts.map((t) => {
      const encoded = tokenizer.encode(t).ids;
      return encoded.length <= maxLength ? encoded : [...encoded.slice(0, maxLength - 1), encoded[encoded.length - 1]];
    });
    return { ids, length: Math.max(...ids.map((r) => r.length)) };
  };
}

async function embed(session: ort.InferenceSession, encode: Encode, texts: readonly string[], maxLength: number): Promise<Float32Array[]> {
  const { ids, length } = encode(texts, maxLength);
  const rows = ids.length;
  const inputIds = new BigInt64Array(rows * length);
  const mask = new BigInt64Array(rows * length);
  ids.forEach((row, r) => row.forEach((id, t) => {
    inputIds[r * length + t] = BigInt(id);
    mask[r * length + t] = 1n;
  }));
  const dims = [rows, length];
  const { last_hidden_state: hidden } = await session.run({
    input_ids: new ort.Tensor('int64', inputIds, dims),
    attention_mask: new ort.Tensor('int64', mask, dims),
    token_type_ids: new ort.Tensor('int64', new BigInt64Array(rows * length), dims),
  });
  const width = hidden.dims[2];
  const data = hidden.data as Float32Array;
  return ids.map((row, r) => {
    const pooled = new Float32Array(width);
    for (let t = 0; t < row.length; t += 1) {
      for (let k = 0; k < width; k += 1) pooled[k] += data[(r * length + t) * width + k];
    }
    const norm = Math.hypot(...pooled);
    return pooled.map((v) => v / norm);
  });
}

async function medianMs(iterations: number, call: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 3; i += 1) await call();
  const times: number[] = [];
  for (let i = 0; i < iterations; i += 1) {
    const start = process.hrtime.bigint();
    await call();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const dot = (a: Float32Array, b: Float32Array): number => a.reduce((sum, v, i) => sum + v * b[i], 0);

async function main(): Promise<void> {
  const dir = await ensureSyntheticModel(SYNTHETIC_MODEL_CACHE, { size: 'full', int8: true });
  const encode = await loadTokenizer(dir);
  const options: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 2, graphOptimizationLevel: 'all' };
  const sessions = {
    fp32: await ort.InferenceSession.create(modelPath(dir, MODEL_FILES.onnxModel), options),
    int8: await ort.InferenceSession.create(modelPath(dir, SYNTHETIC_INT8_FILE), options),
  };
  const scenarios = [
    { name: 'short, batch 1', texts: SHORT_TEXTS.slice(0, 1), maxLength: 256, iterations: 200, expected: '2.3-3.0' },
    { name: 'short, batch 8', texts: SHORT_TEXTS, maxLength: 256, iterations: 60, expected: '12-14' },
    { name: '256 tokens, batch 1', texts: [LONG_TEXT], maxLength: 256, iterations: 40, expected: '25-29' },
  ];
  console.log(`padded length of the short batch: ${encode(SHORT_TEXTS, 256).length}; long: ${encode([LONG_TEXT], 256).length}`);
  for (const { name, texts, maxLength, iterations, expected } of scenarios) {
    const fp32 = await medianMs(iterations, () => embed(sessions.fp32, encode, texts, maxLength));
    const int8 = await medianMs(iterations, () => embed(sessions.int8, encode, texts, maxLength));
    console.log(
      `${name.padEnd(20)} fp32 ${fp32.toFixed(2)} ms (export: ${expected} ms)  int8 ${int8.toFixed(2)} ms  int8/fp32 ${(int8 / fp32).toFixed(2)}`,
    );
  }

  const reference = await embed(sessions.fp32, encode, SHORT_TEXTS, 256);
  const quantised = await embed(sessions.int8, encode, SHORT_TEXTS, 256);
  const agreement = reference.map((r, i) => dot(r, quantised[i]));
  const crossText = reference.flatMap((r, i) => reference.slice(i + 1).map((s) => dot(r, s)));
  // A random BERT's mean-pooled vectors share a large common component (different texts have
  // cosine > 0.9), so also compare after removing the fp32 mean over the texts.
  const centre = reference[0].map((_, k) => reference.reduce((sum, r) => sum + r[k], 0) / reference.length);
  const centred = (v: Float32Array): Float32Array => v.map((x, k) => x - centre[k]);
  const cosine = (a: Float32Array, b: Float32Array): number => dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b));
  const centredAgreement = reference.map((r, i) => cosine(centred(r), centred(quantised[i])));
  const summary = (xs: number[]): string => `min ${Math.min(...xs).toFixed(4)} max ${Math.max(...xs).toFixed(4)}`;
  console.log(`cosine int8 vs fp32, same text: ${summary(agreement)}; centred: ${summary(centredAgreement)}`);
  console.log(`cosine fp32 between different texts (baseline): ${summary(crossText)}`);
  await Promise.all([sessions.fp32.release(), sessions.int8.release()]);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
