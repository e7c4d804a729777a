import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from './atomic-write';
import { resolveSyntheticOptions } from './build-model';
import { SYNTHETIC_GENERATOR_VERSION, type SyntheticModelOptions } from './types';
import { tokenizerFilesDigest, writeSyntheticModel } from './write-model-dir';

const MARKER_FILE = '.synthetic-model.json';

export function syntheticModelDirName(options: SyntheticModelOptions = {}): string {
  const { size, seed, int8 } = resolveSyntheticOptions(options);
  return `synthetic-${size}-seed${seed}${int8 ? '-int8' : ''}`;
}

/**
 * Returns `<cacheRoot>/synthetic-<size>-seed<seed>[-int8]`, generating it only when its marker
 * (generator version, options and a digest of the tokenizer files) is missing or different. The marker is written last, so an
 * interrupted generation is redone next time. Concurrent callers may both generate; every
 * file is replaced atomically with identical bytes, so readers never see a torn file.
 */
export async function ensureSyntheticModel(cacheRoot: string, options: SyntheticModelOptions = {}): Promise<string> {
  const resolved = resolveSyntheticOptions(options);
  const dir = path.join(cacheRoot, syntheticModelDirName(resolved));
  const tokenizerFiles = await tokenizerFilesDigest(resolved.tokenizerDir);
  const marker = `${JSON.stringify({ generatorVersion: SYNTHETIC_GENERATOR_VERSION, ...resolved, tokenizerFiles }, null, 2)}\n`;
  const markerPath = path.join(dir, MARKER_FILE);
  const existing = await fs.readFile(markerPath, 'utf8').catch(() => undefined);
  if (existing !== marker) {
    await fs.rm(markerPath, { force: true });
    await writeSyntheticModel(dir, resolved);
    await writeFileAtomic(markerPath, marker);
  }
  return dir;
}
