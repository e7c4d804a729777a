/** The architecture numbers the graph is built from, read from a Hugging Face BERT config.json. */
export interface BertArchitecture {
  readonly hiddenSize: number;
  readonly numHiddenLayers: number;
  readonly numAttentionHeads: number;
  readonly intermediateSize: number;
  readonly layerNormEps: number;
  readonly vocabSize: number;
  readonly maxPositionEmbeddings: number;
  readonly typeVocabSize: number;
  readonly initializerRange: number;
}

/** The small variant for unit tests: real vocabulary and positions so real token ids fit. */
export const SMALL_OVERRIDES = {
  hiddenSize: 64,
  numHiddenLayers: 2,
  numAttentionHeads: 4,
  intermediateSize: 256,
} as const satisfies Partial<BertArchitecture>;

const FIELDS: ReadonlyArray<[keyof BertArchitecture, string]> = [
  ['hiddenSize', 'hidden_size'],
  ['numHiddenLayers', 'num_hidden_layers'],
  ['numAttentionHeads', 'num_attention_heads'],
  ['intermediateSize', 'intermediate_size'],
  ['layerNormEps', 'layer_norm_eps'],
  ['vocabSize', 'vocab_size'],
  ['maxPositionEmbeddings', 'max_position_embeddings'],
  ['typeVocabSize', 'type_vocab_size'],
  ['initializerRange', 'initializer_range'],
];

/** Validates a parsed config.json; every problem is reported in one error. */
export function parseBertConfig(json: unknown): BertArchitecture {
  if (typeof json !== 'object' || json === null) throw new Error('config.json: not an object');
  const raw = json as Record<string, unknown>;
  const problems: string[] = [];
  const out: Partial<Record<keyof BertArchitecture, number>> = {};
  for (const [key, jsonKey] of FIELDS) {
    const value = raw[jsonKey];
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      problems.push(`${jsonKey} must be a positive number (got ${JSON.stringify(value)})`);
    } else {
      out[key] = value;
    }
  }
  if (raw.hidden_act !== 'gelu') problems.push(`hidden_act must be "gelu" (got ${JSON.stringify(raw.hidden_act)})`);
  if (raw.position_embedding_type !== undefined && raw.position_embedding_type !== 'absolute') {
    problems.push('position_embedding_type must be "absolute"');
  }
  if (problems.length === 0) checkArchitecture(out as BertArchitecture, problems);
  if (problems.length > 0) throw new Error(`config.json: ${problems.join('; ')}`);
  return Object.freeze(out as BertArchitecture);
}

export function checkArchitecture(arch: BertArchitecture, problems: string[] = []): string[] {
  const integers: Array<keyof BertArchitecture> = FIELDS.map(([key]) => key).filter(
    (key) => key !== 'layerNormEps' && key !== 'initializerRange',
  );
  for (const key of integers) {
    if (!Number.isInteger(arch[key])) problems.push(`${key} must be an integer`);
  }
  if (arch.hiddenSize % arch.numAttentionHeads !== 0) {
    problems.push(`hidden_size ${arch.hiddenSize} is not divisible by num_attention_heads ${arch.numAttentionHeads}`);
  }
  return problems;
}

export function withOverrides(arch: BertArchitecture, overrides: Partial<BertArchitecture>): BertArchitecture {
  const merged = { ...arch, ...overrides };
  const problems = checkArchitecture(merged);
  if (problems.length > 0) throw new Error(`architecture overrides: ${problems.join('; ')}`);
  return Object.freeze(merged);
}

/** The source config.json rewritten to describe `arch` (the small variant's directory). */
export function configJsonFor(source: Record<string, unknown>, arch: BertArchitecture): Record<string, unknown> {
  return {
    ...source,
    hidden_size: arch.hiddenSize,
    num_hidden_layers: arch.numHiddenLayers,
    num_attention_heads: arch.numAttentionHeads,
    intermediate_size: arch.intermediateSize,
    layer_norm_eps: arch.layerNormEps,
    vocab_size: arch.vocabSize,
    max_position_embeddings: arch.maxPositionEmbeddings,
    type_vocab_size: arch.typeVocabSize,
    initializer_range: arch.initializerRange,
  };
}
