import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { loadConfig, serviceVariables } from '../app/config';
import { REPO_ROOT, SYNTHETIC_MODEL_CACHE } from '../scripts/repo-paths';
import { ensureSyntheticModel } from '../scripts/synthetic-model/cached';
import { SYNTHETIC_INT8_FILE } from '../scripts/synthetic-model/types';
import { HelpRequested, USAGE, parseArgs, type BenchOptions } from './args';
import { CpuMeter } from './cpu-usage';
import { runLoad } from './load';
import { describeMachine } from './machine';
import { RAW_BATCH_SIZES, type RawResult } from './raw';
import { replaceBenchSection } from './bench-section';
import { checkTargets, renderMarkdown } from './report';
import { SCENARIOS, WORST_CASE, scenarioLabel, type Scenario } from './scenarios';
import { freePort, installChildCleanup, startServer, untilExit, type ServerSpec, type StartedServer } from './server-process';
import { TextStream, type TextKind } from './texts';
import { measureTokenStats } from './token-stats';
import { BUSY_CORES, type BenchResults, type ScenarioResult, type ServerName, type ServerResult, type WorstCaseResult } from './types';

/**
 * `npm run bench`: our service, the transformers.js peer and our service on the int8 model, each
 * started fresh and loaded with autocannon over loopback; then the worst case; then the raw
 * in-process limit. Prints markdown tables and writes them, with every number as JSON, to the
 * ignored .cache/bench/, or with --save to bench/results/ and docs/performance.md.
 */
const REPO = REPO_ROOT;
const SAVED_RESULTS_DIR = path.join(REPO, 'bench', 'results');
const LOCAL_RESULTS_DIR = path.join(REPO, '.cache', 'bench');
const PERFORMANCE_PAGE = path.join(REPO, 'docs', 'performance.md');
const log = (line: string) => process.stdout.write(`${line}\n`);

/** Each server draws texts from its own range, so no text is ever sent twice in a run. */
const TEXT_OFFSETS: Record<ServerName | 'worst', number> = { ours: 0, peer: 2_000_000, int8: 4_000_000, worst: 6_000_000 };

function streamsFrom(start: number): (kind: TextKind) => TextStream {
  const streams = new Map<TextKind, TextStream>();
  return (kind) => {
    let stream = streams.get(kind);
    if (!stream) {
      stream = new TextStream(kind, start + streams.size * 500_000);
      streams.set(kind, stream);
    }
    return stream;
  };
}

const describeRun = (run: ScenarioResult) =>
  `${run.textsPerS.toFixed(0).padStart(6)} texts/s  p50 ${run.p50Ms.toFixed(1).padStart(7)} ms  p99 ${run.p99Ms.toFixed(1).padStart(7)} ms` +
  `  cpu: server ${run.cpu.server.toFixed(2)}, load generator ${run.cpu.loadGenerator.toFixed(2)}` +
  (run.cpu.other >= BUSY_CORES ? `, other processes ${run.cpu.other.toFixed(2)} (not idle)` : '') +
  (run.flagged ? `  ⚠ non-2xx ${run.non2xx}, errors ${run.errors}, timeouts ${run.timeouts}` : '');

async function loadScenario(server: StartedServer, scenario: Scenario, streams: (kind: TextKind) => TextStream, durationS: number, warmupS: number): Promise<ScenarioResult> {
  const texts = streams(scenario.kind);
  const shape = { port: server.port, connections: scenario.connections, textsPerRequest: scenario.textsPerRequest, texts };
  if (warmupS > 0) await runLoad({ ...shape, durationS: warmupS });
  const meter = new CpuMeter(server.pid);
  const run = await runLoad({ ...shape, durationS });
  return { ...run, cpu: meter.read() };
}

/** Stops the server even when a run failed, so no child outlives its part of the benchmark. */
async function withServer<T>(started: StartedServer, body: () => Promise<T>): Promise<{ value: T; rss: { peakRssMb: number; maxSampledRssMb: number } }> {
  let value: T;
  try {
    value = await body();
  } catch (error) {
    await started.stop();
    throw error;
  }
  const rss = await started.stop();
  log(`peak RSS ${rss.peakRssMb.toFixed(0)} MB`);
  return { value, rss };
}

async function start(specFor: (port: number) => ServerSpec): Promise<StartedServer> {
  const port = await freePort();
  const server = await startServer(specFor(port), port);
  log(`healthy after ${server.startToHealthyMs.toFixed(0)} ms (pid ${server.pid}, port ${port})`);
  return server;
}

async function benchServer(name: ServerName, description: string, specFor: (port: number) => ServerSpec, options: BenchOptions): Promise<ServerResult> {
  log(`\n## ${name}: ${description}`);
  const server = await start(specFor);
  const streams = streamsFrom(TEXT_OFFSETS[name]);
  const { value: scenarios, rss } = await withServer(server, async () => {
    const results: Record<string, ScenarioResult> = {};
    for (const scenario of SCENARIOS) {
      const run = await loadScenario(server, scenario, streams, options.durationS, options.warmupS);
      results[scenario.id] = run;
      log(`  ${scenarioLabel(scenario).padEnd(24)} ${describeRun(run)}`);
    }
    return results;
  });
  return { name, description, startToHealthyMs: server.startToHealthyMs, peakRssMb: rss.peakRssMb, maxSampledRssMb: rss.maxSampledRssMb, scenarios };
}

async function benchWorstCase(specFor: (port: number) => ServerSpec, options: BenchOptions): Promise<WorstCaseResult> {
  log(`\n## worst case: ours fp32, fresh, ${scenarioLabel(WORST_CASE)} for ${options.worstS} s`);
  const server = await start(specFor);
  const { value: load, rss } = await withServer(server, async () => {
    const run = await loadScenario(server, WORST_CASE, streamsFrom(TEXT_OFFSETS.worst), options.worstS, 0);
    log(`  ${scenarioLabel(WORST_CASE).padEnd(24)} ${describeRun(run)}`);
    return run;
  });
  return { scenario: WORST_CASE.id, startToHealthyMs: server.startToHealthyMs, peakRssMb: rss.peakRssMb, maxSampledRssMb: rss.maxSampledRssMb, load, allOk: !load.flagged };
}

/** The raw limit in its own process, with no server running. */
function benchRaw(modelDir: string, onnxFile: string, options: BenchOptions): Promise<RawResult> {
  log(`\n## raw limit (${onnxFile}): in-process tokenise + onnxruntime + pool, batch sizes ${RAW_BATCH_SIZES.join(', ')}, ${options.rawPointS} s per point`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'raw.js'), modelDir, String(options.rawPointS), onnxFile], { stdio: ['ignore', 'pipe', 'inherit'] });
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

  const modelDir = await ensureSyntheticModel(SYNTHETIC_MODEL_CACHE, { size: 'full', int8: true, tokenizerDir: options.tokenizerDir });
  // Service settings given to `npm run bench` (e.g. MAX_BATCH_TOKENS=1024) apply to ours, int8 and the raw limit alike.
  const tuning = serviceVariables(process.env);
  const intraOpThreads = loadConfig(tuning).inference.intraOpThreads;
  const tokens = await measureTokenStats(modelDir);
  log(`model ${modelDir}; intra-op threads ${intraOpThreads}`);
  log(`mean tokens per text: ${tokens.map((t) => `${t.kind} ${t.mean.toFixed(1)} (${t.min}-${t.max})`).join(', ')}`);

  const oursEnv = { ...tuning, EMBEDDING_MODEL_DIR: modelDir, HOST: '127.0.0.1', MODEL_AUTO_DOWNLOAD: 'false', LOG_LEVEL: 'warn' };
  const mainJs = path.join(REPO, 'dist', 'app', 'main.js');
  const specFor = (name: ServerName, port: number): ServerSpec => {
    if (name === 'peer') {
      return { name, script: path.join(__dirname, 'peer-server.js'), args: [modelDir, String(port), String(intraOpThreads)], env: {}, cwd: REPO };
    }
    const file: Record<string, string> = name === 'int8' ? { EMBEDDING_MODEL_FILE: SYNTHETIC_INT8_FILE } : {};
    return { name, script: mainJs, env: { ...oursEnv, ...file, PORT: String(port) }, cwd: REPO };
  };
  const descriptions: Record<ServerName, string> = {
    ours: 'this service, fp32, over HTTP',
    peer: `Express + transformers.js pipeline, intraOpNumThreads ${intraOpThreads}`,
    int8: `this service, int8 (${SYNTHETIC_INT8_FILE})`,
  };

  const servers: BenchResults['servers'] = {};
  for (const name of ['ours', 'peer', 'int8'] as const) {
    if (!options.only.has(name)) continue;
    servers[name] = await benchServer(name, descriptions[name], (port) => specFor(name, port), options);
  }
  const worst = options.only.has('worst') ? await benchWorstCase((port) => specFor('ours', port), options) : undefined;
  const raw = options.only.has('raw') ? await benchRaw(modelDir, 'onnx/model.onnx', options) : undefined;
  const rawInt8 = options.only.has('raw') ? await benchRaw(modelDir, SYNTHETIC_INT8_FILE, options) : undefined;

  const wallS = (performance.now() - t0) / 1000;
  const partial = {
    startedAt: startedAt.toISOString(),
    wallS,
    command,
    machine,
    options: { durationS: options.durationS, warmupS: options.warmupS, worstS: options.worstS, rawPointS: options.rawPointS, quick: options.quick, only: [...options.only] },
    modelDir: path.relative(REPO, modelDir),
    intraOpThreads,
    tokens,
    servers,
    ...(worst ? { worst } : {}),
    ...(raw ? { raw } : {}),
    ...(rawInt8 ? { rawInt8 } : {}),
  };
  const results: BenchResults = { ...partial, checks: checkTargets(partial) };
  const markdown = renderMarkdown(results);
  log(`\n${markdown}`);

  const resultsDir = options.save ? SAVED_RESULTS_DIR : LOCAL_RESULTS_DIR;
  await fs.mkdir(resultsDir, { recursive: true });
  const json = `${JSON.stringify(results, null, 2)}\n`;
  const stamp = startedAt.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  await fs.writeFile(path.join(resultsDir, `${stamp}.json`), json);
  await fs.writeFile(path.join(resultsDir, 'latest.json'), json);
  await fs.writeFile(path.join(resultsDir, 'latest.md'), markdown);
  const shown = path.relative(REPO, resultsDir);
  log(`wrote ${shown}/${stamp}.json, ${shown}/latest.json and ${shown}/latest.md`);
  if (options.save) {
    await replaceBenchSection(PERFORMANCE_PAGE, markdown);
    log('docs/performance.md: benchmark tables replaced');
  } else {
    log('not saved: run with --save to record this run in bench/results/ and docs/performance.md');
  }
  log(`total wall time ${wallS.toFixed(0)} s`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exitCode = 1;
});
