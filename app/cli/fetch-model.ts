/**
 * Downloads the pinned model into a directory laid out like its public repository.
 *
 *   node dist/app/cli/fetch-model.js [dir] [--include onnx/model_quint8_avx2.onnx]
 *   npm run model:fetch -- [dir]
 *
 * dir defaults to $EMBEDDING_MODEL_DIR, else ./models/all-MiniLM-L6-v2; $HF_ENDPOINT replaces
 * https://huggingface.co (a mirror). Exit 0 when the model is in place, 1 when it could not be
 * fetched (one line on stderr, no stack), 2 on bad usage, 130 when interrupted.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_HUB_URL, DEFAULT_MODEL_DIR } from '../defaults';
import { ModelDownloadError, downloadModel } from '../provisioning/download';
import { ALL_MINILM_L6_V2, parseModelPin, type ModelPin } from '../provisioning/manifest';
import { createStderrProgress } from '../provisioning/progress';

const USAGE = `usage: fetch-model [dir] [--include <optional file>]... [--manifest <pin.json>] [--quiet]

  dir          model directory (default: $EMBEDDING_MODEL_DIR, else ${DEFAULT_MODEL_DIR})
  --include    also fetch an optional file of the pin, e.g. onnx/model_quint8_avx2.onnx
  --manifest   a JSON pin {repo, revision, files:[{path,size,sha256,optional?}]} instead of the built-in one
  --quiet      no progress output
environment: HF_ENDPOINT (hub or mirror, default ${DEFAULT_HUB_URL})`;

class UsageError extends Error {}

interface Invocation {
  dir: string;
  include: string[];
  manifest: string | undefined;
  quiet: boolean;
  help: boolean;
}

function parseInvocation(argv: string[], env: NodeJS.ProcessEnv): Invocation {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        include: { type: 'string', multiple: true },
        manifest: { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) throw new UsageError(`expected at most one directory, got ${positionals.length}: ${positionals.join(' ')}`);
  const dir = positionals[0] ?? nonEmpty(env.EMBEDDING_MODEL_DIR) ?? DEFAULT_MODEL_DIR;
  return {
    dir,
    include: values.include ?? [],
    manifest: values.manifest,
    quiet: values.quiet ?? false,
    help: values.help ?? false,
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

async function loadPin(manifest: string | undefined): Promise<ModelPin> {
  if (manifest === undefined) return ALL_MINILM_L6_V2;
  let text: string;
  try {
    text = await readFile(manifest, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read --manifest ${manifest}: ${(error as Error).message}`);
  }
  try {
    return parseModelPin(JSON.parse(text), manifest);
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\n\s*/g, ' '));
  }
}

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let invocation: Invocation;
  let pin: ModelPin;
  try {
    invocation = parseInvocation(argv, env);
    if (invocation.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    pin = await loadPin(invocation.manifest);
    const unknown = invocation.include.filter((p) => !pin.files.some((f) => f.path === p));
    if (unknown.length > 0) {
      const optional = pin.files.filter((f) => f.optional === true).map((f) => f.path);
      throw new UsageError(`--include ${unknown.join(', ')}: not a file of the pin (optional files: ${optional.join(', ') || 'none'})`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`fetch-model: ${error.message}\n${USAGE}\n`);
      return 2;
    }
    throw error;
  }

  const endpoint = nonEmpty(env.HF_ENDPOINT) ?? DEFAULT_HUB_URL;
  const controller = new AbortController();
  const interrupt = (): void => controller.abort(new Error('interrupted'));
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    const started = Date.now();
    const result = await downloadModel({
      dir: invocation.dir,
      pin,
      endpoint,
      include: invocation.include,
      signal: controller.signal,
      onProgress: invocation.quiet ? undefined : createStderrProgress(),
    });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const total = result.downloaded.length + result.skipped.length;
    process.stderr.write(
      `model: ${pin.repo}@${pin.revision.slice(0, 7)} in ${path.resolve(invocation.dir)}: ${total} files verified ` +
        `(${result.downloaded.length} downloaded, ${result.skipped.length} already present) in ${seconds}s\n`,
    );
    return 0;
  } catch (error) {
    if (controller.signal.aborted) {
      process.stderr.write('fetch-model: interrupted; no partial file was left in place\n');
      return 130;
    }
    const message = error instanceof Error ? error.message : String(error);
    const hint =
      error instanceof ModelDownloadError && error.reason === 'network' ? ` (is ${endpoint} reachable? set HF_ENDPOINT to use a mirror)` : '';
    process.stderr.write(`fetch-model: ${message.replace(/\n\s*/g, ' ')}${hint}\n`);
    return 1;
  } finally {
    process.removeListener('SIGINT', interrupt);
    process.removeListener('SIGTERM', interrupt);
  }
}

if (require.main === module) {
  main(process.argv.slice(2), process.env).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`fetch-model: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
