export {
  SYNTHETIC_GENERATOR_VERSION,
  SYNTHETIC_INT8_FILE,
  type ResolvedSyntheticModelOptions,
  type SyntheticModelOptions,
  type SyntheticModelSize,
} from './types';
export { writeSyntheticModel } from './write-model-dir';
export { ensureSyntheticModel, syntheticModelDirName } from './cached';
export { buildSyntheticModel, resolveSyntheticOptions, type SyntheticModelBuild } from './build-model';
export { opHistogram, nodeCount } from './histogram';
export { parseBertConfig, SMALL_OVERRIDES, type BertArchitecture } from './bert-config';
