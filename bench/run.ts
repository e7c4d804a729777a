import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { loadConfig, serviceVariables } from '../app/config';
import { DEFAULT_ONNX_FILE } from '../app/defaults';
import { REPO_ROOT, SYNTHETIC_MODEL_CACHE } from '../scripts/repo-paths';
import { ensureSyntheticModel } from '../scripts/synthetic-model/cached';
import { SYNTHETIC_INT8_FILE } from '../scripts/synthetic-model/types';
import { DEFAULT_PARTS, HelpRequested, USAGE, parseArgs, type BenchOptions } from './args';
import { MIXED_MARKERS, replaceBenchSection } from './bench-section';
import { describeMachine } from './machine';
import { appContainerEnvironment, formatTaskShape, productionStack } from './production';
import { benchMixed } from './mixed';
import { RAW_BATCH_SIZES, type RawResult } from './raw';
import { checkTargets, checksList, mixedChecks, mixedSection, renderMarkdown } from './report';
import { SCENARIOS, WORST_CASE, scenarioLabel } from './scenarios';
import { describeRun, loadScenario, log, streamsFrom } from './scenario-run';
import { installChildCleanup, untilExit } from './server-process';
import { oursEnvironment, runServer, startAndMemory, type ServerContext, type ServerPlan } from './servers';
import { benchTaskShape } from './task-shape-part';
import { measureTokenStats } from './token-stats';
import type { BenchResults, ScenarioResult, ServerName, ServerResult, WorstCaseResult } from './types';

/**
 * `npm run bench`: our service in its production configuration and in the quiet one, the
 * transformers.js peer and our service on the int8 model, each started fresh and loaded with
 * autocannon over loopback; then the worst case; then the raw in-process limit; then the task shape
 * (servers inside the ECS task's CPU and memory limits, open-loop rate sweep). Prints markdown tables
 * and writes them, with every number as JSON, to the ignored .cache/bench/, or with --save to
 * bench/results/ and docs/performance.md.
 */
const REPO = REPO_ROOT;
const SAVED_RESULTS_DIR = path.join(REPO, 'bench', 'results');
const LOCAL_RESULTS_DIR = path.join(REPO, '.cache', 'bench');
const PERFORMANCE_PAGE = path.join(REPO, 'docs', 'performance.md');

/** Each server draws texts from its own range, so no text is ever sent twice in a run. */
const TEXT_OFFSETS: Record<ServerName | 'worst', number> = { ours: 0, peer: 2_000_000, int8: 4_000_000, worst: 6_000_000, quiet: 7_000_000 };

async function benchServer(context: ServerContext, name: ServerName, description: string, plan: ServerPlan, options: BenchOptions): Promise<ServerResult> {
  log(`\n## ${name}: ${description}`);
  const streams = streamsFrom(TEXT_OFFSETS[name]);
  const run = await runServer(context, { label: name, plan }, async (server, tally) => {
    const results: Record<string, ScenarioResult> = {};
    for (const scenario of SCENARIOS) {
      const result = await loadScenario(server, scenario, streams, options.durationS, options.warmupS, tally);
      results[scenario.id] = result;
      log(`  ${scenarioLabel(scenario).padEnd(24)} ${describeRun(result)}`);
    }
    return results;
  });
  const { PORT: _port, ...environment } = plan.kind === 'ours' ? oursEnvironment(context, plan, 0, plan.config === 'production' ? 'http://127.0.0.1:<sink>' : undefined) : {};
  return {
    name,
    description,
    ...startAndMemory(run),
    scenarios: run.value,
    telemetry: run.telemetry,
    settings: plan.kind === 'peer' ? { intraOpNumThreads: String(plan.threads) } : environment,
  };
}

async function benchWorstCase(context: ServerContext, plan: ServerPlan, options: BenchOptions): Promise<WorstCaseResult> {
  log(`\n## worst case: ours fp32 (production configuration), fresh, ${scenarioLabel(WORST_CASE)} for ${options.worstS} s`);
  const run = await runServer(context, { label: 'worst', plan }, async (server, tally) => {
    const result = await loadScenario(server, WORST_CASE, streamsFrom(TEXT_OFFSETS.worst), options.worstS, 0, tally);
    log(`  ${scenarioLabel(WORST_CASE).padEnd(24)} ${describeRun(result)}`);
    return result;
  });
  return { scenario: WORST_CASE.id, ...startAndMemory(run), load: run.value, allOk: !run.value.flagged };
}

/** The raw limit in its own process, with no server running, with the same intra-op threads as ours. */
function benchRaw(modelDir: string, onnxFile: string, env: Record<string, string>, options: BenchOptions): Promise<RawResult> {
  log(`\n## raw limit (${onnxFile}): in-process tokenise + onnxruntime + pool, batch sizes ${RAW_BATCH_SIZES.join(', ')}, ${options.rawPointS} s per point`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'raw.js'), modelDir, String(options.rawPointS), onnxFile], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    untilExit(child);
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`raw limit process exited with ${code}`));
      try {
        const result = JSON.parse(out.trim().split('\n').pop() ?? '') as RawResult;
        for (const p of result.points) log(`  ${p.kind.padEnd(7)} batch ${String(p.batchSize).padStart(3)}: ${p.textsPerS.toFixed(0).padStart(6)} texts/s, p50 ${p.p50Ms.toFixed(1)} ms per batch`);
        resolve(result);
      } catch (error) {
        reject(error);
      }
    });
  });
}

/** Runs the parts in order, timing each. */
class PartTimer {
  readonly wallS: Record<string, number> = {};
  async time<T>(part: string, body: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await body();
    } finally {
      this.wallS[part] = Math.round((performance.now() - t0) / 100) / 10;
      log(`(${part}: ${this.wallS[part]} s)`);
    }
  }
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const t0 = performance.now();
  let options: BenchOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof HelpRequested)) throw error;
    log(USAGE);
    return;
  }
  installChildCleanup();
  const command = ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ');
  const machine = describeMachine();
  log(`# ${command}  (${machine.nproc} CPUs, ${machine.cpuModel}; load average ${machine.loadAverageAtStart.join(' ')})`);
  const timer = new PartTimer();

  const modelDir = await ensureSyntheticModel(SYNTHETIC_MODEL_CACHE, { size: 'full', int8: true, tokenizerDir: options.tokenizerDir });
  const stack = productionStack();
  const stamp = startedAt.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  const logDir = path.join(LOCAL_RESULTS_DIR, 'logs', stamp);
  await fs.mkdir(logDir, { recursive: true });
  // Service settings given to `npm run bench` (e.g. MAX_BATCH_TOKENS=1024) apply to ours, quiet, int8 and the raw limit alike.
  const context: ServerContext = { repo: REPO, modelDir, tuning: serviceVariables(process.env), stack, logDir };
  // The main table's servers run with the task definition of a task the size of this machine (its CPUs as CPU units).
  const machineTaskCpu = machine.nproc * 1024;
  const intraOpThreads = loadConfig({ ...appContainerEnvironment(stack, machineTaskCpu), ...context.tuning }).session.intraOpThreads;
  const tokens = await measureTokenStats(modelDir);
  log(`model ${modelDir}; task definition for ${machineTaskCpu} CPU units: intra-op threads ${intraOpThreads}; logs in ${path.relative(REPO, logDir)}/`);
  log(`mean tokens per text: ${tokens.map((t) => `${t.kind} ${t.mean.toFixed(1)} (${t.min}-${t.max})`).join(', ')}`);

  const ours = (config: 'production' | 'quiet', onnxFile?: string): ServerPlan => ({ kind: 'ours', config, taskCpu: machineTaskCpu, ...(onnxFile ? { onnxFile } : {}) });
  const plans: Record<ServerName, [string, ServerPlan]> = {
    ours: ['this service, production configuration (tracing to an OTLP sink, LOG_LEVEL=info, logs to a file), fp32', ours('production')],
    quiet: ['this service, quiet configuration (tracing off, LOG_LEVEL=warn), fp32', ours('quiet')],
    peer: [`Express + transformers.js pipeline, intraOpNumThreads ${intraOpThreads}`, { kind: 'peer', threads: intraOpThreads }],
    int8: [`this service, production configuration, int8 (${SYNTHETIC_INT8_FILE})`, ours('production', SYNTHETIC_INT8_FILE)],
  };

  const servers: BenchResults['servers'] = {};
  for (const name of ['ours', 'quiet', 'peer', 'int8'] as const) {
    if (!options.only.has(name)) continue;
    const [description, plan] = plans[name];
    servers[name] = await timer.time(name, () => benchServer(context, name, description, plan, options));
  }
  const worst = options.only.has('worst') ? await timer.time('worst', () => benchWorstCase(context, ours('production'), options)) : undefined;
  const rawEnv = { ...context.tuning, ORT_INTRA_OP_THREADS: String(intraOpThreads) };
  const raw = options.only.has('raw') ? await timer.time('raw', () => benchRaw(modelDir, DEFAULT_ONNX_FILE, rawEnv, options)) : undefined;
  const rawInt8 = options.only.has('raw') ? await timer.time('raw int8', () => benchRaw(modelDir, SYNTHETIC_INT8_FILE, rawEnv, options)) : undefined;
  const shape = options.taskShape ?? { cpuUnits: stack.cpu, memoryMiB: stack.memory };
  const taskShape = options.only.has('task')
    ? await timer.time('task', () =>
        benchTaskShape(context, { shape, saturationS: options.taskSaturationS, warmupS: options.warmupS, pointS: options.taskPointS, settleS: options.taskSettleS }),
      )
    : undefined;
  const mixed = options.only.has('mixed')
    ? await timer.time('mixed', () => benchMixed(context, { shape, bulkTexts: options.mixedTexts, bulkKind: options.mixedKind, queryRatePerS: 4 }))
    : undefined;

  const wallS = (performance.now() - t0) / 1000;
  const partial = {
    startedAt: startedAt.toISOString(),
    wallS,
    partsWallS: timer.wallS,
    command,
    machine,
    options: {
      durationS: options.durationS,
      warmupS: options.warmupS,
      worstS: options.worstS,
      rawPointS: options.rawPointS,
      quick: options.quick,
      only: [...options.only],
      ...(options.only.has('task') || options.only.has('mixed') ? { taskShape: formatTaskShape(shape) } : {}),
    },
    modelDir: path.relative(REPO, modelDir),
    machineTaskCpu,
    intraOpThreads,
    tokens,
    servers,
    ...(worst ? { worst } : {}),
    ...(raw ? { raw } : {}),
    ...(rawInt8 ? { rawInt8 } : {}),
    ...(taskShape ? { taskShape } : {}),
    ...(mixed ? { mixed } : {}),
  };
  const results: BenchResults = { ...partial, checks: checkTargets(partial) };
  const markdown = renderMarkdown(results);
  log(`\n${markdown}`);

  // A run of some parts only is recorded beside the full run, never in its place.
  const complete = DEFAULT_PARTS.every((part) => options.only.has(part));
  const resultsDir = options.save ? SAVED_RESULTS_DIR : LOCAL_RESULTS_DIR;
  await fs.mkdir(resultsDir, { recursive: true });
  const json = `${JSON.stringify(results, null, 2)}\n`;
  const name = complete ? stamp : `${stamp}-only-${[...options.only].join('-')}`;
  await fs.writeFile(path.join(resultsDir, `${name}.json`), json);
  const shown = path.relative(REPO, resultsDir);
  if (complete || !options.save) {
    await fs.writeFile(path.join(resultsDir, 'latest.json'), json);
    await fs.writeFile(path.join(resultsDir, 'latest.md'), markdown);
    log(`wrote ${shown}/${name}.json, ${shown}/latest.json and ${shown}/latest.md`);
  } else {
    log(`wrote ${shown}/${name}.json (latest.json keeps the last complete run)`);
  }
  if (options.save) {
    if (complete) {
      await replaceBenchSection(PERFORMANCE_PAGE, markdown);
      log('docs/performance.md: benchmark tables replaced');
    }
    if (mixed) {
      const section = `Command: \`${command}\` — ${startedAt.toISOString().slice(0, 19).replace('T', ' ')} UTC, ${machine.nproc} CPUs (${machine.cpuModel}), Node ${machine.node}; load average at start ${machine.loadAverageAtStart.join(' ')}; results: \`bench/results/${name}.json\`.\n\n${mixedSection(results)}\n\n${checksList(mixedChecks(mixed))}`;
      await replaceBenchSection(PERFORMANCE_PAGE, section, MIXED_MARKERS);
      log('docs/performance.md: mixed traffic table replaced');
    }
  } else {
    log('not saved: run with --save to record this run in bench/results/ and docs/performance.md');
  }
  log(`total wall time ${wallS.toFixed(0)} s (${Object.entries(timer.wallS).map(([part, s]) => `${part} ${s.toFixed(0)} s`).join(', ')})`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exitCode = 1;
});
