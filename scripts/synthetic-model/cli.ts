/**
 * Writes a synthetic all-MiniLM-L6-v2 model directory: the real tokenizer and config files beside an
 * ONNX model of the same architecture with seeded random weights. A development tool: the vectors
 * are not meaningful embeddings, but the service, its tests and its benchmark run on it unchanged.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MODEL_FILES, modelPath } from '../../app/model/layout';
import { REPO_ROOT, TOKENIZER_FIXTURE_DIR } from '../repo-paths';
import { SYNTHETIC_INT8_FILE, writeSyntheticModel, type SyntheticModelOptions } from '.';

const USAGE = `usage: npm run model:synthetic -- <dir> [--int8] [--small] [--seed N] [--tokenizer-dir <dir>]

  <dir>             model directory to write (created if missing; files are replaced atomically)
  --int8            also write ${SYNTHETIC_INT8_FILE} (quantize_dynamic's uint8 layout)
  --small           a 2-layer, 64-wide model of the same graph (fast unit tests), not the real architecture
  --seed N          weight seed, an integer in [0, 2^32) (default 42); the same seed writes the same bytes
  --tokenizer-dir   the model's tokenizer and config files (default: the repository's
                    ${path.relative(REPO_ROOT, TOKENIZER_FIXTURE_DIR)})
  -h, --help        this text

Serve it with: EMBEDDING_MODEL_DIR=<dir> npm start
The service reports it as all-MiniLM-L6-v2-synthetic (its vectors are not meaningful embeddings)
and, under NODE_ENV=production, serves it only with ALLOW_SYNTHETIC_MODEL=true.`;

class UsageError extends Error {}

type Invocation = { help: true } | { help: false; dir: string; options: SyntheticModelOptions };

function parseCli(argv: readonly string[]): Invocation {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        small: { type: 'boolean', default: false },
        int8: { type: 'boolean', default: false },
        seed: { type: 'string' },
        'tokenizer-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true };
  if (positionals.length !== 1) throw new UsageError(`expected exactly one directory, got ${positionals.length}`);
  let seed: number | undefined;
  if (values.seed !== undefined) {
    if (!/^\d+$/.test(values.seed) || Number(values.seed) > 0xffffffff) {
      throw new UsageError(`--seed must be an integer in [0, 2^32) (got ${values.seed})`);
    }
    seed = Number(values.seed);
  }
  const tokenizerDir = values['tokenizer-dir'];
  return {
    help: false,
    dir: path.resolve(positionals[0] as string),
    options: {
      size: values.small ? 'small' : 'full',
      int8: values.int8,
      ...(seed === undefined ? {} : { seed }),
      ...(tokenizerDir === undefined ? {} : { tokenizerDir: path.resolve(tokenizerDir) }),
    },
  };
}

async function main(argv: readonly string[]): Promise<number> {
  let invocation: Invocation;
  try {
    invocation = parseCli(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`synthetic-model: ${error.message}\n${USAGE}\n`);
    return 2;
  }
  if (invocation.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { dir, options } = invocation;
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

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`synthetic-model: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
