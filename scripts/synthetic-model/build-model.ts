import { promises as fs } from 'node:fs';
import path from 'node:path';
import { MODEL_FILES, modelPath } from '../../app/model/layout';
import { SYNTHETIC_METADATA_KEY } from '../../app/model/synthetic-marker';
import { TOKENIZER_FIXTURE_DIR } from '../repo-paths';
import { configJsonFor, parseBertConfig, SMALL_OVERRIDES, withOverrides, type BertArchitecture } from './bert-config';
import { buildBertModel, encodeModel } from './bert-graph';
import { createBertWeights } from './bert-weights';
import {
  SYNTHETIC_GENERATOR_VERSION,
  type ResolvedSyntheticModelOptions,
  type SyntheticModelOptions,
} from './types';

export function resolveSyntheticOptions(options: SyntheticModelOptions = {}): ResolvedSyntheticModelOptions {
  const resolved = {
    seed: options.seed ?? 42,
    size: options.size ?? 'full',
    int8: options.int8 ?? false,
    tokenizerDir: path.resolve(options.tokenizerDir ?? TOKENIZER_FIXTURE_DIR),
  };
  if (!Number.isInteger(resolved.seed) || resolved.seed < 0 || resolved.seed > 0xffffffff) {
    throw new Error(`seed must be an integer in [0, 2^32) (got ${resolved.seed})`);
  }
  if (resolved.size !== 'full' && resolved.size !== 'small') {
    throw new Error(`size must be "full" or "small" (got ${String(resolved.size)})`);
  }
  return Object.freeze(resolved);
}

export interface SyntheticModelBuild {
  readonly architecture: BertArchitecture;
  /** The config.json the model directory gets. */
  readonly config: Record<string, unknown>;
  readonly fp32: Uint8Array;
  readonly int8?: Uint8Array;
}

/** Reads the architecture from the source config.json and encodes the model(s), in memory. */
export async function buildSyntheticModel(options: SyntheticModelOptions = {}): Promise<SyntheticModelBuild> {
  const resolved = resolveSyntheticOptions(options);
  const configFile = modelPath(resolved.tokenizerDir, MODEL_FILES.transformerConfig);
  const configText = await fs.readFile(configFile, 'utf8').catch((error: unknown) => {
    throw new Error(`${MODEL_FILES.transformerConfig} is missing from the tokenizer directory ${resolved.tokenizerDir} (--tokenizer-dir)`, { cause: error });
  });
  const sourceConfig = JSON.parse(configText) as Record<string, unknown>;
  const base = parseBertConfig(sourceConfig);
  const architecture = resolved.size === 'small' ? withOverrides(base, SMALL_OVERRIDES) : base;
  const weights = createBertWeights(architecture, resolved.seed);
  // The marker the service reads (app/model/synthetic-marker.ts): it reports the model as synthetic.
  const graphOptions = {
    producerVersion: SYNTHETIC_GENERATOR_VERSION,
    metadata: { [SYNTHETIC_METADATA_KEY]: 'true', seed: String(resolved.seed), size: resolved.size },
  };
  const fp32 = encodeModel(buildBertModel(architecture, weights, graphOptions));
  const int8 = resolved.int8 ? encodeModel(buildBertModel(architecture, weights, { ...graphOptions, int8: true })) : undefined;
  return {
    architecture,
    config: resolved.size === 'small' ? configJsonFor(sourceConfig, architecture) : sourceConfig,
    fp32,
    ...(int8 ? { int8 } : {}),
  };
}
