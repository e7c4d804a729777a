import { onnx } from 'onnx-proto';
import { SYNTHETIC_PRODUCER_NAME } from '../../app/model/synthetic-marker';
import type { BertArchitecture } from './bert-config';
import { layerPrefix, requireWeight, type BertWeights } from './bert-weights';
import { attr, floatTensor, GraphBuilder, int64Tensor, valueInfo } from './graph-builder';
import { DynamicMatMulQuantizer } from './quantize';

export const OPSET = 14;
export const IR_VERSION = 8;
export const INPUT_NAMES = ['input_ids', 'attention_mask', 'token_type_ids'] as const;
export const OUTPUT_NAME = 'last_hidden_state';

export interface BertGraphOptions {
  /** MatMuls with constant weights and embedding Gathers in quantize_dynamic's uint8 form. */
  readonly int8?: boolean;
  /** Stored as metadata_props, e.g. the seed. */
  readonly metadata?: Readonly<Record<string, string>>;
  readonly producerVersion?: string;
}

/**
 * all-MiniLM-L6-v2's BertModel, node for node as torch.onnx.export (opset 14) writes it:
 * the op pattern of a measured PyTorch export (docs/synthetic-model.md lists its op counts).
 */
export function buildBertModel(arch: BertArchitecture, weights: BertWeights, options: BertGraphOptions = {}): onnx.ModelProto {
  const b = new GraphBuilder('main_graph');
  const quantizer = options.int8 ? new DynamicMatMulQuantizer() : undefined;
  const weight = (name: string): string => {
    const w = requireWeight(weights, name);
    return b.initializer(floatTensor(name, w.dims, w.data));
  };

  const dynamic = ['batch_size', 'sequence_length'];
  const [inputIds, attentionMask, tokenTypeIds] = INPUT_NAMES.map((name) =>
    b.input(valueInfo(name, onnx.TensorProto.DataType.INT64, dynamic)),
  );

  const linear = (scope: string, input: string, prefix: string): string => {
    const w = requireWeight(weights, `${prefix}.weight`);
    const product = quantizer
      ? quantizer.matMul(b, scope, input, `${prefix}.weight`, w)
      : b.node('MatMul', scope, [input, weight(`${prefix}.weight`)]);
    return b.node('Add', scope, [weight(`${prefix}.bias`), product]);
  };

  const layerNorm = (scope: string, x: string, prefix: string): string => {
    const axes = [attr.ints('axes', [-1]), attr.int('keepdims', 1)];
    const mean = b.node('ReduceMean', scope, [x], axes);
    const centred = b.node('Sub', scope, [x, mean]);
    const squared = b.node('Pow', scope, [centred, b.constFloat(scope, 2)]);
    const variance = b.node('ReduceMean', scope, [squared], axes);
    const shifted = b.node('Add', scope, [variance, b.constFloat(scope, arch.layerNormEps)]);
    const std = b.node('Sqrt', scope, [shifted]);
    const normalised = b.node('Div', scope, [centred, std]);
    const scaled = b.node('Mul', scope, [normalised, weight(`${prefix}.weight`)]);
    return b.node('Add', scope, [scaled, weight(`${prefix}.bias`)]);
  };

  /** Shape/Gather/Unsqueeze per leading dim, then Concat with the constant tail, then Reshape. */
  const reshapeKeepingTwoDims = (scope: string, x: string, shapeOf: string, tail: readonly number[]): string => {
    const dims = [0, 1].map((axis) => {
      const shape = b.node('Shape', scope, [shapeOf]);
      const dim = b.node('Gather', scope, [shape, b.constInt64(scope, [axis], [])], [attr.int('axis', 0)]);
      return b.node('Unsqueeze', scope, [dim, b.constInt64(scope, [0])]);
    });
    const tailParts = tail.map((d) => b.constInt64(scope, [d]));
    const shape = b.node('Concat', scope, [...dims, ...tailParts], [attr.int('axis', 0)]);
    return b.node('Reshape', scope, [x, shape]);
  };

  // Extended attention mask [batch, 1, 1, sequence]: 0 where attended, -FLT_MAX where padded.
  const unsqueezed = b.node('Unsqueeze', '', [attentionMask, b.constInt64('', [1])]);
  const unsqueezed2 = b.node('Unsqueeze', '', [unsqueezed, b.constInt64('', [2])]);
  const maskFloat = b.node('Cast', '', [unsqueezed2], [attr.int('to', onnx.TensorProto.DataType.FLOAT)]);
  const inverted = b.node('Sub', '', [b.constFloat('', 1), maskFloat]);
  const mask = b.node('Mul', '', [inverted, b.constFloat('', Math.fround(-3.4028234663852886e38))]);

  // Embeddings.
  const emb = '/embeddings';
  const positionIds = b.initializer(
    int64Tensor('embeddings.position_ids', [1, arch.maxPositionEmbeddings], Array.from({ length: arch.maxPositionEmbeddings }, (_, i) => i)),
  );
  const inputShape = b.node('Shape', emb, [inputIds]);
  const seqLength = b.node('Gather', emb, [inputShape, b.constInt64(emb, [1], [])], [attr.int('axis', 0)]);
  const seqEnd = b.node('Unsqueeze', emb, [seqLength, b.constInt64(emb, [0])]);
  const positions = b.node('Slice', emb, [
    positionIds,
    b.constInt64(emb, [0]),
    seqEnd,
    b.constInt64(emb, [1]),
    b.constInt64(emb, [1]),
  ]);
  const embedding = (table: string, indices: string): string => {
    const scope = `${emb}/${table}`;
    const name = `embeddings.${table}.weight`;
    return quantizer
      ? quantizer.gather(b, scope, name, requireWeight(weights, name), indices)
      : b.node('Gather', scope, [weight(name), indices]);
  };
  const words = embedding('word_embeddings', inputIds);
  const types = embedding('token_type_embeddings', tokenTypeIds);
  const wordsAndTypes = b.node('Add', emb, [words, types]);
  const positional = embedding('position_embeddings', positions);
  const summed = b.node('Add', emb, [wordsAndTypes, positional]);
  let hidden = layerNorm(`${emb}/LayerNorm`, summed, 'embeddings.LayerNorm');

  const heads = arch.numAttentionHeads;
  const headSize = arch.hiddenSize / heads;
  for (let layer = 0; layer < arch.numHiddenLayers; layer += 1) {
    const p = layerPrefix(layer);
    const scope = `/encoder/layer.${layer}`;
    const self = `${scope}/attention/self`;

    const query = linear(`${self}/query`, hidden, `${p}.attention.self.query`);
    const key = linear(`${self}/key`, hidden, `${p}.attention.self.key`);
    const keyT = b.node('Transpose', self, [reshapeKeepingTwoDims(self, key, key, [heads, headSize])], [attr.ints('perm', [0, 2, 3, 1])]);
    const value = linear(`${self}/value`, hidden, `${p}.attention.self.value`);
    const valueT = b.node('Transpose', self, [reshapeKeepingTwoDims(self, value, value, [heads, headSize])], [attr.ints('perm', [0, 2, 1, 3])]);
    const queryT = b.node('Transpose', self, [reshapeKeepingTwoDims(self, query, query, [heads, headSize])], [attr.ints('perm', [0, 2, 1, 3])]);

    const scores = b.node('MatMul', self, [queryT, keyT]);
    const scaled = b.node('Div', self, [scores, b.constFloat(self, Math.sqrt(headSize))]);
    const masked = b.node('Add', self, [scaled, mask]);
    const probs = b.node('Softmax', self, [masked], [attr.int('axis', -1)]);
    const context = b.node('MatMul', self, [probs, valueT]);
    const contextT = b.node('Transpose', self, [context], [attr.ints('perm', [0, 2, 1, 3])]);
    const merged = reshapeKeepingTwoDims(self, contextT, contextT, [arch.hiddenSize]);

    const attnOut = `${scope}/attention/output`;
    const projected = linear(`${attnOut}/dense`, merged, `${p}.attention.output.dense`);
    const attnResidual = b.node('Add', attnOut, [projected, hidden]);
    const attention = layerNorm(`${attnOut}/LayerNorm`, attnResidual, `${p}.attention.output.LayerNorm`);

    const intermediate = linear(`${scope}/intermediate/dense`, attention, `${p}.intermediate.dense`);
    const act = `${scope}/intermediate/intermediate_act_fn`;
    const erf = b.node('Erf', act, [b.node('Div', act, [intermediate, b.constFloat(act, 1.4142135381698608)])]);
    const onePlusErf = b.node('Add', act, [erf, b.constFloat(act, 1)]);
    const gelu = b.node('Mul', act, [b.node('Mul', act, [intermediate, onePlusErf]), b.constFloat(act, 0.5)]);

    const out = `${scope}/output`;
    const down = linear(`${out}/dense`, gelu, `${p}.output.dense`);
    const ffnResidual = b.node('Add', out, [down, attention]);
    hidden = layerNorm(`${out}/LayerNorm`, ffnResidual, `${p}.output.LayerNorm`);
  }

  b.renameTensor(hidden, OUTPUT_NAME);
  b.output(valueInfo(OUTPUT_NAME, onnx.TensorProto.DataType.FLOAT, [...dynamic, arch.hiddenSize]));

  const opsetImport: onnx.IOperatorSetIdProto[] = [{ domain: '', version: OPSET }];
  // quantize_dynamic declares the contrib domain too, though its output uses only standard ops.
  if (options.int8) opsetImport.push({ domain: 'com.microsoft', version: 1 });
  return onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport,
    producerName: SYNTHETIC_PRODUCER_NAME,
    producerVersion: options.producerVersion ?? '',
    graph: b.graph,
    metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
  });
}

export function encodeModel(model: onnx.ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}
