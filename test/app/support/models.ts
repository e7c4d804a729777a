import { ensureSyntheticModel } from '../../../scripts/synthetic-model/cached';
import { MODEL_CACHE_ROOT } from './paths';

/** The full-size synthetic all-MiniLM-L6-v2 (real tokenizer, random weights), with its int8 variant. */
export const fullModelDir = () => ensureSyntheticModel(MODEL_CACHE_ROOT, { size: 'full', int8: true });

/** A 2-layer model of the same graph for fast unit tests. */
export const smallModelDir = () => ensureSyntheticModel(MODEL_CACHE_ROOT, { size: 'small' });
