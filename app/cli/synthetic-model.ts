import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MODEL_FILES, modelPath } from '../model/layout';
import { SYNTHETIC_INT8_FILE, writeSyntheticModel, type SyntheticModelOptions } from '../model/synthetic';

const USAGE = 'usage: node dist/app/cli/synthetic-model.js <dir> [--small] [--seed N] [--int8]';

function parseCli(argv: readonly string[]): { dir: string; options: SyntheticModelOptions } {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      small: { type: 'boolean', default: false },
      int8: { type: 'boolean', default: false },
      seed: { type: 'string' },
    },
  });
  if (positionals.length !== 1) throw new Error('expected exactly one directory');
  let seed: number | undefined;
  if (values.seed !== undefined) {
    if (!/^\d+$/.test(values.seed) || Number(values.seed) > 0xffffffff) {
      throw new Error(`--seed must be an integer in [0, 2^32) (got ${values.seed})`);
    }
    seed = Number(values.seed);
  }
  return {
    dir: path.resolve(positionals[0]),
    options: { size: values.small ? 'small' : 'full', int8: values.int8, ...(seed === undefined ? {} : { seed }) },
  };
}

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parseCli>;
  try {
    parsed = parseCli(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { dir, options } = parsed;
  const started = process.hrtime.bigint();
  await writeSyntheticModel(dir, options);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;

  const written = [MODEL_FILES.onnxModel, ...(options.int8 ? [SYNTHETIC_INT8_FILE] : [])];
  for (const file of written) {
    const { size } = await fs.stat(modelPath(dir, file));
    process.stderr.write(`wrote ${modelPath(dir, file)} (${(size / 1e6).toFixed(1)} MB)\n`);
  }
  process.stderr.write(
    `synthetic ${options.size} model, seed ${options.seed ?? 42}, with tokenizer and config files in ${dir} ` +
      `in ${seconds.toFixed(2)} s\n`,
  );
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`synthetic-model: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
