import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { MODEL_FILES, modelPath } from '../../app/model/layout';
import { readOnnxMetadata } from '../../app/model/onnx-metadata';
import { isSyntheticModel } from '../../app/model/synthetic-marker';
import {
  ensureSyntheticModel,
  nodeCount,
  opHistogram,
  SYNTHETIC_INT8_FILE,
  writeSyntheticModel,
} from '../../scripts/synthetic-model';
import { MODEL_CACHE_ROOT, TOKENIZER_FIXTURE_DIR } from '../app/support/paths';

const read = async (dir: string, file: string): Promise<Uint8Array> => new Uint8Array(await fs.readFile(modelPath(dir, file)));

/** The op counts of a reference torch.onnx.export of all-MiniLM-L6-v2 (they sum to 688). */
const EXPORT_HISTOGRAM = {
  Constant: 197, Add: 88, Gather: 52, Unsqueeze: 51, Shape: 49, MatMul: 48, ReduceMean: 26, Mul: 26, Div: 25,
  Concat: 24, Reshape: 24, Transpose: 24, Sub: 14, Pow: 13, Sqrt: 13, Softmax: 6, Erf: 6, Slice: 1, Cast: 1,
};

/** Word-level ids from the real vocab.txt, wrapped in [CLS] … [SEP]; enough for these checks. */
async function loadVocab(): Promise<(text: string) => number[]> {
  const lines = (await fs.readFile(modelPath(TOKENIZER_FIXTURE_DIR, MODEL_FILES.vocab), 'utf8')).split('\n');
  const vocab = new Map(lines.map((token, id) => [token.trim(), id]));
  const id = (token: string): number => vocab.get(token) ?? (vocab.get('[UNK]') as number);
  return (text) => [id('[CLS]'), ...text.toLowerCase().split(/\s+/).map(id), id('[SEP]')];
}

interface Batch {
  readonly feeds: Record<string, ort.Tensor>;
  readonly mask: number[][];
  readonly length: number;
}

function batch(rows: readonly number[][]): Batch {
  const length = Math.max(...rows.map((r) => r.length));
  const ids = rows.map((r) => [...r, ...Array<number>(length - r.length).fill(0)]);
  const mask = rows.map((r) => Array.from({ length }, (_, i) => (i < r.length ? 1 : 0)));
  const tensor = (m: number[][]) => new ort.Tensor('int64', BigInt64Array.from(m.flat(), BigInt), [rows.length, length]);
  return {
    feeds: { input_ids: tensor(ids), attention_mask: tensor(mask), token_type_ids: tensor(mask.map((r) => r.map(() => 0))) },
    mask,
    length,
  };
}

async function lastHiddenState(session: ort.InferenceSession, b: Batch): Promise<ort.Tensor> {
  return (await session.run(b.feeds)).last_hidden_state;
}

function meanPooled(hidden: ort.Tensor, b: Batch): Float32Array[] {
  const [rows, length, width] = hidden.dims;
  const data = hidden.data as Float32Array;
  return Array.from({ length: rows }, (_, row) => {
    const sum = new Float32Array(width);
    let count = 0;
    for (let t = 0; t < length; t += 1) {
      if (!b.mask[row][t]) continue;
      count += 1;
      for (let k = 0; k < width; k += 1) sum[k] += data[(row * length + t) * width + k];
    }
    return sum.map((v) => v / count);
  });
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i += 1) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

const sessionOptions = (extra: ort.InferenceSession.SessionOptions = {}): ort.InferenceSession.SessionOptions => ({
  intraOpNumThreads: 1,
  logSeverityLevel: 3,
  ...extra,
});

async function optimisedHistogram(model: string, outDir: string): Promise<Record<string, number>> {
  const optimizedModelFilePath = path.join(outDir, `${path.basename(model)}.optimised.onnx`);
  const session = await ort.InferenceSession.create(model, sessionOptions({ graphOptimizationLevel: 'all', optimizedModelFilePath }));
  await session.release();
  return opHistogram(new Uint8Array(await fs.readFile(optimizedModelFilePath)));
}

let tmp: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'synthetic-model-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('writeSyntheticModel', () => {
  it('is deterministic per seed, idempotent, and lays out the model directory', async () => {
    const write = async (name: string, seed: number): Promise<string> => {
      const dir = path.join(tmp, name);
      await writeSyntheticModel(dir, { size: 'small', seed });
      return dir;
    };
    const a = await write('a', 7);
    const b = await write('b', 7);
    const c = await write('c', 8);
    const modelA = await read(a, MODEL_FILES.onnxModel);
    expect(Buffer.compare(modelA, await read(b, MODEL_FILES.onnxModel))).toBe(0);
    expect(Buffer.compare(modelA, await read(c, MODEL_FILES.onnxModel))).not.toBe(0);

    await writeSyntheticModel(a, { size: 'small', seed: 7 });
    expect(Buffer.compare(modelA, await read(a, MODEL_FILES.onnxModel))).toBe(0);

    const files = (await fs.readdir(a, { recursive: true })).map((f) => f.split(path.sep).join('/'));
    for (const file of Object.values(MODEL_FILES)) expect(files).toContain(file);
    expect(files.filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(files).not.toContain(SYNTHETIC_INT8_FILE);

    const config = JSON.parse(Buffer.from(await read(a, MODEL_FILES.transformerConfig)).toString('utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 256, vocab_size: 30522, max_position_embeddings: 512 });
    expect(Buffer.compare(await read(a, MODEL_FILES.tokenizer), await read(TOKENIZER_FIXTURE_DIR, MODEL_FILES.tokenizer))).toBe(0);
  });

  it('marks every ONNX file it writes as synthetic, as the service reads it', async () => {
    const dir = path.join(tmp, 'marked');
    await writeSyntheticModel(dir, { size: 'small', int8: true, seed: 5 });
    for (const file of [MODEL_FILES.onnxModel, SYNTHETIC_INT8_FILE]) {
      const metadata = await readOnnxMetadata(modelPath(dir, file));
      expect({ file, metadata, synthetic: isSyntheticModel(metadata) }).toEqual({
        file,
        metadata: { producerName: 'embedding-service synthetic-model', props: { synthetic: 'true', seed: '5', size: 'small' } },
        synthetic: true,
      });
    }
    expect(isSyntheticModel({ producerName: 'pytorch', props: {} })).toBe(false);
  });
});

describe('full synthetic model', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await ensureSyntheticModel(MODEL_CACHE_ROOT, { size: 'full', int8: true });
  });

  it('has the op histogram, initializers and interface of the torch export', async () => {
    const bytes = await read(dir, MODEL_FILES.onnxModel);
    expect(opHistogram(bytes)).toEqual(EXPORT_HISTOGRAM);
    const graph = onnx.ModelProto.decode(bytes).graph as onnx.GraphProto;
    expect(graph.initializer).toHaveLength(102);
    const parameters = graph.initializer
      .filter((t) => t.dataType === onnx.TensorProto.DataType.FLOAT)
      .reduce((sum, t) => sum + (t.dims ?? []).reduce<number>((n, d) => n * Number(d), 1), 0);
    expect(parameters).toBe(22_565_376);
    expect(graph.input.map((i) => i.name)).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);
    expect(graph.output.map((o) => o.name)).toEqual(['last_hidden_state']);
  });

  it('is fused by onnxruntime at level all as the export is (LayerNormalization, BiasGelu, FusedMatMul)', async () => {
    const histogram = await optimisedHistogram(modelPath(dir, MODEL_FILES.onnxModel), tmp);
    expect(histogram).toMatchObject({ LayerNormalization: 13, BiasGelu: 6, FusedMatMul: 6 });
    expect(histogram).not.toHaveProperty('Attention');
    expect(nodeCount(histogram)).toBe(183);
  });
});

describe('small synthetic model in onnxruntime', () => {
  let dir: string;
  let tokenize: (text: string) => number[];
  beforeAll(async () => {
    dir = await ensureSyntheticModel(MODEL_CACHE_ROOT, { size: 'small', int8: true });
    tokenize = await loadVocab();
  });

  it('returns [batch, sequence, hidden], and padding leaves the real positions unchanged', async () => {
    const session = await ort.InferenceSession.create(modelPath(dir, MODEL_FILES.onnxModel), sessionOptions());
    const long = tokenize('the quick brown fox jumps over the lazy dog');
    const short = tokenize('hello world');
    const padded = batch([long, short]);
    const hidden = await lastHiddenState(session, padded);
    expect(hidden.dims).toEqual([2, padded.length, 64]);

    const alone = await lastHiddenState(session, batch([short]));
    const paddedData = hidden.data as Float32Array;
    const aloneData = alone.data as Float32Array;
    const rowOffset = padded.length * 64;
    let maxDiff = 0;
    for (let i = 0; i < short.length * 64; i += 1) {
      maxDiff = Math.max(maxDiff, Math.abs(paddedData[rowOffset + i] - aloneData[i]));
    }
    expect(maxDiff).toBeLessThan(1e-4);
    expect(Math.max(...Array.from(aloneData, Math.abs))).toBeGreaterThan(0.5); // not a degenerate output
    await session.release();
  });

  it('int8 variant loads, is fused into integer MatMuls, and agrees with fp32', async () => {
    const histogram = await optimisedHistogram(modelPath(dir, SYNTHETIC_INT8_FILE), tmp);
    expect((histogram.DynamicQuantizeMatMul ?? 0) + (histogram.MatMulIntegerToFloat ?? 0)).toBe(12);
    expect(histogram).not.toHaveProperty('MatMulInteger');

    const fp32 = await ort.InferenceSession.create(modelPath(dir, MODEL_FILES.onnxModel), sessionOptions());
    const int8 = await ort.InferenceSession.create(modelPath(dir, SYNTHETIC_INT8_FILE), sessionOptions());
    const texts = ['a man is eating food', 'the weather is lovely today', 'how do i reset my password', 'hello'];
    const b = batch(texts.map(tokenize));
    const reference = meanPooled(await lastHiddenState(fp32, b), b);
    const quantised = meanPooled(await lastHiddenState(int8, b), b);
    // Measured (seeds 1, 2, 3, 42): cosine ≥ 0.99996, and ≥ 0.9994 after removing the common
    // component that makes even different texts' vectors agree to 0.8-0.97 in a random BERT.
    const agreement = reference.map((r, i) => cosine(r, quantised[i]));
    expect(Math.min(...agreement)).toBeGreaterThan(0.999);
    const centre = reference[0].map((_, k) => reference.reduce((sum, r) => sum + r[k], 0) / reference.length);
    const centred = (v: Float32Array): Float32Array => v.map((x, k) => x - centre[k]);
    const centredAgreement = reference.map((r, i) => cosine(centred(r), centred(quantised[i])));
    expect(Math.min(...centredAgreement)).toBeGreaterThan(0.99);
    await Promise.all([fp32.release(), int8.release()]);
  });
});
