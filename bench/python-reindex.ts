import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { serviceVariables } from '../app/config';
import { loadTokenizer } from '../app/model/tokenizer';
import { REPO_ROOT, SYNTHETIC_MODEL_CACHE } from '../scripts/repo-paths';
import { ensureSyntheticModel } from '../scripts/synthetic-model/cached';
import { createTaskCgroup, removeStaleTaskCgroups } from './cgroup';
import { appMemoryMiB, formatTaskShape, parseTaskShape, productionStack, type TaskShape } from './production';
import { log } from './scenario-run';
import { runPythonCallers, type CallerResult } from './python-caller';
import { installChildCleanup } from './server-process';
import { runServer, type ServerContext } from './servers';
import { longText } from './texts';

/**
 * `npm run bench:reindex`: the callers' bulk re-index through the real Python client against this
 * service in the shape of its ECS task (CPU quota and memory limit from a cgroup, production
 * configuration): N event texts of 50 to 256 tokens, split among C concurrent bulk callers (Django and
 * Celery workers), each `get_embedding_client().encode(texts, use_cache=False)` as
 * api/rag_service.py does it. Reports, per client sizing, wall time, texts/s, request latency, retries
 * by reason, timeouts and texts that fell back to the local model. Sizings: the client's defaults
 * (requests sized by characters, two in flight), other character budgets with --chars, and with
 * --compare the old one (100 texts a request, one in flight).
 */

const USAGE = `usage: npm run bench:reindex -- [--task-shape <cpu>/<memory>] [--texts N] [--callers C[,C...]] [--chars N[,N...]] [--compare] [--save]
  --task-shape   the task size, Fargate CPU units and MiB (default: the production stack's)
  --texts        event texts in the re-index (default 2000), 50 to 256 tokens each
  --callers      concurrent bulk callers sharing the texts, e.g. 1,3 (default 1)
  --chars        also run these character budgets a request (the client's max_batch_chars), 2 in flight
  --compare      also run the old sizing: 100 texts a request, one request in flight
  --save         write the JSON to bench/results/ (default .cache/bench/)`;

interface Sizing {
  readonly name: string;
  readonly args: readonly string[];
}

const DEFAULT_SIZING: Sizing = { name: 'client defaults (2,000 characters, 2 in flight)', args: [] };
const OLD_SIZING: Sizing = { name: '100 texts a request, 1 in flight', args: ['--max-batch-chars', '100000000', '--max-in-flight', '1'] };
const charsSizing = (chars: number): Sizing => ({ name: `${chars.toLocaleString('en-US')} characters, 2 in flight`, args: ['--max-batch-chars', String(chars)] });

interface RunResult {
  readonly sizing: string;
  readonly callers: number;
  readonly wallS: number;
  readonly textsPerS: number;
  readonly requests: number;
  readonly latencyP99Ms: number;
  readonly latencyMaxMs: number;
  readonly retries: Record<string, number>;
  readonly timeouts: number;
  readonly fallbackTexts: number;
  readonly perCaller: CallerResult[];
}

interface ReindexOptions {
  readonly shape?: TaskShape;
  readonly texts: number;
  readonly callers: number[];
  readonly sizings: Sizing[];
  readonly save: boolean;
}

function parseOptions(argv: string[]): ReindexOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      'task-shape': { type: 'string' },
      texts: { type: 'string', default: '2000' },
      callers: { type: 'string', default: '1' },
      chars: { type: 'string', default: '' },
      compare: { type: 'boolean', default: false },
      save: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    log(USAGE);
    process.exit(0);
  }
  const texts = Number(values.texts);
  const callers = values.callers.split(',').map(Number);
  if (!Number.isInteger(texts) || texts < 1) throw new Error(`--texts must be a positive integer\n${USAGE}`);
  const chars = values.chars ? values.chars.split(',').map(Number) : [];
  if ([...callers, ...chars].some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--callers and --chars must be positive integers\n${USAGE}`);
  const sizings = [DEFAULT_SIZING, ...chars.map(charsSizing), ...(values.compare ? [OLD_SIZING] : [])];
  return { ...(values['task-shape'] ? { shape: parseTaskShape(values['task-shape']) } : {}), texts, callers, sizings, save: values.save };
}

/** Event texts of 50 to 256 tokens ([CLS] and [SEP] included), each distinct: benchmark descriptions cut at a word. */
async function eventTexts(modelDir: string, count: number): Promise<string[]> {
  const tokenizer = await loadTokenizer(modelDir, 1_000_000, 1_000_000);
  return Array.from({ length: count }, (_, i) => {
    const target = 50 + ((i * 7919) % 207);
    const words = longText(i).split(' ');
    let low = 1;
    let high = words.length;
    while (low < high) {
      const middle = Math.ceil((low + high) / 2);
      if (tokenizer.tokenize(words.slice(0, middle).join(' ')).ids.length <= target) low = middle;
      else high = middle - 1;
    }
    return words.slice(0, low).join(' ');
  });
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const merge = (records: Array<Record<string, number>>) =>
  records.reduce<Record<string, number>>((all, record) => {
    for (const [key, n] of Object.entries(record)) all[key] = (all[key] ?? 0) + n;
    return all;
  }, {});

async function reindex(textsFile: string, url: string, callers: number, sizing: Sizing): Promise<RunResult> {
  const started = performance.now();
  const perCaller = await runPythonCallers(textsFile, callers, url, sizing.args);
  const wallS = (performance.now() - started) / 1000;
  const texts = sum(perCaller.map((c) => c.texts));
  return {
    sizing: sizing.name,
    callers,
    wallS,
    textsPerS: texts / Math.max(...perCaller.map((c) => c.seconds)),
    requests: sum(perCaller.map((c) => c.requests)),
    latencyP99Ms: Math.max(...perCaller.map((c) => c.latencyMs.p99 ?? 0)),
    latencyMaxMs: Math.max(...perCaller.map((c) => c.latencyMs.max)),
    retries: merge(perCaller.map((c) => c.retries)),
    timeouts: sum(perCaller.map((c) => c.timeouts)),
    fallbackTexts: sum(perCaller.map((c) => c.fallbackTexts)),
    perCaller,
  };
}

const describe = (r: RunResult) =>
  `| ${r.sizing} | ${r.callers} | ${r.requests} | ${r.textsPerS.toFixed(1)} | ${r.latencyP99Ms.toFixed(0)} / ${r.latencyMaxMs.toFixed(0)} | ` +
  `${Object.entries(r.retries).map(([reason, n]) => `${n} ${reason}`).join(', ') || '0'} | ${r.timeouts} | ${r.fallbackTexts} |`;

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  installChildCleanup();
  const stack = productionStack();
  const shape = options.shape ?? { cpuUnits: stack.cpu, memoryMiB: stack.memory };
  const memory = appMemoryMiB(stack, shape);
  const limits = { cpuCores: shape.cpuUnits / 1024, memoryBytes: memory.appMiB * 2 ** 20 };
  const modelDir = await ensureSyntheticModel(SYNTHETIC_MODEL_CACHE, { size: 'full', int8: true });
  const stamp = new Date().toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  const workDir = path.join(REPO_ROOT, '.cache', 'bench', 'reindex', stamp);
  await fs.mkdir(workDir, { recursive: true });
  const texts = await eventTexts(modelDir, options.texts);
  const textsFile = path.join(workDir, 'texts.json');
  await fs.writeFile(textsFile, JSON.stringify(texts));
  const chars = texts.map((t) => t.length);
  log(`# npm run bench:reindex -- ${process.argv.slice(2).join(' ')}`);
  log(`${texts.length} event texts, 50-256 tokens, ${Math.min(...chars)}-${Math.max(...chars)} characters (mean ${(sum(chars) / chars.length).toFixed(0)})`);

  removeStaleTaskCgroups();
  const { group, problems } = createTaskCgroup('reindex', limits);
  if (!group?.dirs.cpu) throw new Error(`no CPU limit can be set here (${problems.join('; ')}); run as root on Linux with cgroup cpu and memory controllers`);
  log(`task shape ${formatTaskShape(shape)}: ${group.describe()}; service in its production configuration (today's scheduler)`);
  const context: ServerContext = { repo: REPO_ROOT, modelDir, tuning: serviceVariables(process.env), stack, logDir: workDir };
  const runs: RunResult[] = [];
  try {
    await runServer(context, { label: 'reindex', plan: { kind: 'ours', config: 'production', taskCpu: shape.cpuUnits }, launchPrefix: group.launchPrefix() }, async (server) => {
      const url = `http://127.0.0.1:${server.port}`;
      for (const callers of options.callers) {
        for (const sizing of options.sizings) {
          const run = await reindex(textsFile, url, callers, sizing);
          runs.push(run);
          log(`  ${sizing.name}, ${callers} caller(s): ${run.textsPerS.toFixed(1)} texts/s, ${run.requests} requests, p99 ${run.latencyP99Ms.toFixed(0)} ms, max ${run.latencyMaxMs.toFixed(0)} ms, ${run.timeouts} timeouts, ${run.fallbackTexts} texts fell back`);
          for (const warning of new Set(run.perCaller.flatMap((c) => c.warnings))) log(`    warning: ${warning}`);
        }
      }
    });
  } finally {
    group.remove();
  }
  const table = [
    '| client sizing | bulk callers | requests | texts/s | request p99 / max ms | retries | timeouts | texts on the local model |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...runs.map(describe),
  ].join('\n');
  log(`\n${table}`);
  const resultsDir = options.save ? path.join(REPO_ROOT, 'bench', 'results') : path.join(REPO_ROOT, '.cache', 'bench');
  await fs.mkdir(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `${stamp}-python-reindex.json`);
  const json = { startedAt: stamp, command: `npm run bench:reindex -- ${process.argv.slice(2).join(' ')}`, taskShape: formatTaskShape(shape), limits: group.describe(), texts: texts.length, runs };
  await fs.writeFile(file, `${JSON.stringify(json, null, 2)}\n`);
  log(`wrote ${path.relative(REPO_ROOT, file)}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:reindex: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exitCode = 1;
});
