import type { BertArchitecture } from './bert-config';
import { fillNormal, tensorSeed } from './random';

export interface WeightTensor {
  readonly dims: readonly number[];
  readonly data: Float32Array;
}

/**
 * Parameters by their Hugging Face names. Linear weights are stored [in, out], already
 * transposed, as torch.onnx.export stores them for MatMul.
 */
export type BertWeights = ReadonlyMap<string, WeightTensor>;

export const layerPrefix = (layer: number): string => `encoder.layer.${layer}`;

/**
 * Seeded random parameters. Matrices, embeddings and biases ~ N(0, initializer_range).
 * LayerNorm weight ~ 1 + N(0, initializer_range) and bias ~ N(0, initializer_range): a
 * LayerNorm with weight near 0 would shrink every activation towards its bias, whereas a
 * trained model keeps activations O(1); this keeps ours O(1) too, so softmax, GELU and int8
 * ranges see realistic values.
 */
export function createBertWeights(arch: BertArchitecture, seed: number): BertWeights {
  const std = arch.initializerRange;
  const weights = new Map<string, WeightTensor>();
  const normal = (name: string, dims: number[], mean = 0): void => {
    const size = dims.reduce((a, b) => a * b, 1);
    weights.set(name, { dims, data: fillNormal(new Float32Array(size), mean, std, tensorSeed(seed, name)) });
  };
  const layerNorm = (prefix: string): void => {
    normal(`${prefix}.weight`, [arch.hiddenSize], 1);
    normal(`${prefix}.bias`, [arch.hiddenSize]);
  };
  const linear = (prefix: string, inSize: number, outSize: number): void => {
    normal(`${prefix}.weight`, [inSize, outSize]);
    normal(`${prefix}.bias`, [outSize]);
  };

  const h = arch.hiddenSize;
  normal('embeddings.word_embeddings.weight', [arch.vocabSize, h]);
  normal('embeddings.position_embeddings.weight', [arch.maxPositionEmbeddings, h]);
  normal('embeddings.token_type_embeddings.weight', [arch.typeVocabSize, h]);
  layerNorm('embeddings.LayerNorm');
  for (let layer = 0; layer < arch.numHiddenLayers; layer += 1) {
    const p = layerPrefix(layer);
    for (const projection of ['query', 'key', 'value']) linear(`${p}.attention.self.${projection}`, h, h);
    linear(`${p}.attention.output.dense`, h, h);
    layerNorm(`${p}.attention.output.LayerNorm`);
    linear(`${p}.intermediate.dense`, h, arch.intermediateSize);
    linear(`${p}.output.dense`, arch.intermediateSize, h);
    layerNorm(`${p}.output.LayerNorm`);
  }
  return weights;
}

export function requireWeight(weights: BertWeights, name: string): WeightTensor {
  const weight = weights.get(name);
  if (!weight) throw new Error(`missing weight ${name}`);
  return weight;
}
