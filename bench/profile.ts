import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../app/config';
import { REPO_ROOT, SYNTHETIC_MODEL_CACHE } from '../scripts/repo-paths';
import { ensureSyntheticModel } from '../scripts/synthetic-model/cached';
import { byFunction, byPackage, readThreadProfiles, tally, within, type Sample } from './cpu-profile';
import { mainStage, wallStages, workerStage, type WallStage } from './request-stages';
import type { Stamp } from './stage-clock';
import { runLoad, type LoadResult } from './load';
import { describeMachine } from './machine';
import { appContainerEnvironment, productionStack } from './production';
import { log, streamsFrom } from './scenario-run';
import { installChildCleanup } from './server-process';
import { runServer, type OursConfig, type ServerContext } from './servers';
import { cpuMsPerText, ThreadCpuMeter, type ThreadCpuSeconds } from './thread-cpu';
import type { TextKind } from './texts';

/**
 * `node dist/bench/profile.js`: where a request's time goes. Our service, started fresh for each
 * concurrency in its production configuration (as the benchmark's `ours` part runs it) under
 * `node --cpu-prof`, is loaded with one short text a request; then the profiles of the HTTP thread
 * and of the inference thread, cut to the measured window, are read into milliseconds per request
 * by category, with the heaviest functions, beside the CPU each thread role used (from /proc).
 */

const USAGE = `usage: node dist/bench/profile.js [--connections 1,64] [--duration <s>] [--interval-us <µs>] [--kind short|medium] [--config production|quiet] [--out <dir>] [--no-stages]`;

interface ProfileOptions {
  readonly connections: readonly number[];
  readonly durationS: number;
  readonly warmupS: number;
  readonly intervalUs: number;
  readonly kind: TextKind;
  readonly config: OursConfig;
  readonly outDir: string;
  /** Also time the stages of requests sent one at a time (bench/stage-clock.ts). */
  readonly stages: boolean;
}

function parseOptions(argv: readonly string[]): ProfileOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        connections: { type: 'string', default: '1,64' },
        duration: { type: 'string', default: '10' },
        'interval-us': { type: 'string', default: '100' },
        kind: { type: 'string', default: 'short' },
        config: { type: 'string', default: 'production' },
        out: { type: 'string', default: path.join(REPO_ROOT, '.cache', 'profile') },
        'no-stages': { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${USAGE}`);
  }
  const connections = values.connections.split(',').map(Number);
  if (connections.some((c) => !(Number.isInteger(c) && c > 0))) throw new Error(`--connections: positive integers\n${USAGE}`);
  if (!['short', 'medium', 'long'].includes(values.kind)) throw new Error(`--kind: short, medium or long\n${USAGE}`);
  if (values.config !== 'production' && values.config !== 'quiet') throw new Error(`--config: production or quiet\n${USAGE}`);
  return {
    connections,
    durationS: Number(values.duration),
    warmupS: 2,
    intervalUs: Number(values['interval-us']),
    kind: values.kind as TextKind,
    config: values.config,
    outDir: path.resolve(values.out),
    stages: !values['no-stages'],
  };
}

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

export interface ProfiledRun {
  readonly connections: number;
  readonly load: LoadResult;
  readonly threadCpu: ThreadCpuSeconds;
  /** Per thread (0: HTTP, 1: inference worker): samples in the measured window. */
  readonly threads: ReadonlyArray<{ readonly threadId: number; readonly samples: readonly Sample[] }>;
}

async function profileAt(context: ServerContext, options: ProfileOptions, connections: number, taskCpu: number): Promise<ProfiledRun> {
  const dir = path.join(options.outDir, `c${connections}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const texts = streamsFrom(connections * 1_000_000)(options.kind);
  const run = await runServer(
    context,
    { label: `profile-c${connections}`, plan: { kind: 'ours', config: options.config, taskCpu }, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-interval=${options.intervalUs}`] },
    async (server, tally) => {
      const shape = { port: server.port, connections, textsPerRequest: 1, texts };
      const warmup = await runLoad({ ...shape, durationS: options.warmupS });
      const meter = new ThreadCpuMeter(server.pid);
      const fromUs = nowUs();
      const load = await runLoad({ ...shape, durationS: options.durationS });
      tally.add(warmup.requests + warmup.non2xx + load.requests + load.non2xx);
      return { load, fromUs, toUs: nowUs(), threadCpu: meter.read().cpuS };
    },
  );
  const { load, fromUs, toUs, threadCpu } = run.value;
  const threads = readThreadProfiles(dir).map((profile) => ({ threadId: profile.threadId, samples: within(profile.samples, fromUs, toUs) }));
  return { connections, load, threadCpu, threads };
}

export interface StagedRun {
  readonly load: LoadResult;
  readonly requests: number;
  readonly stages: readonly WallStage[];
  readonly serverMedianMs: number;
}

const readStamps = (file: string): Stamp[] => (fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Stamp[]) : []);

/** One request at a time, every stage boundary stamped by bench/stage-clock.ts (no profiler: it would slow the threads down). */
async function stagesAtConcurrency1(context: ServerContext, options: ProfileOptions, taskCpu: number): Promise<StagedRun> {
  const dir = path.join(options.outDir, 'stages');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const texts = streamsFrom(500_000)(options.kind);
  const run = await runServer(
    context,
    {
      label: 'stages-c1',
      plan: { kind: 'ours', config: options.config, taskCpu },
      nodeArgs: ['--require', path.join(__dirname, 'stage-clock.js')],
      extraEnv: { STAGE_CLOCK_DIR: dir },
    },
    async (server, tally) => {
      const shape = { port: server.port, connections: 1, textsPerRequest: 1, texts };
      const warmup = await runLoad({ ...shape, durationS: options.warmupS });
      const fromUs = nowUs();
      const load = await runLoad({ ...shape, durationS: options.durationS });
      tally.add(warmup.requests + warmup.non2xx + load.requests + load.non2xx);
      return { load, fromUs, toUs: nowUs() };
    },
  );
  const { load, fromUs, toUs } = run.value;
  const stamps = fs.readdirSync(dir).filter((name) => /^stages-\d+\.json$/.test(name));
  const main = readStamps(path.join(dir, 'stages-0.json'));
  const worker = stamps.filter((name) => name !== 'stages-0.json').flatMap((name) => readStamps(path.join(dir, name)));
  return { load, ...wallStages(main, worker, fromUs, toUs) };
}

function reportStages(run: StagedRun): string {
  const lines = [
    `### One request at a time (c=1): where its wall time goes`,
    '',
    `${run.load.requests} requests, p50 ${run.load.p50Ms.toFixed(2)} ms at the client; ${run.requests} fully stamped, request event → response handed to the socket p50 ${run.serverMedianMs.toFixed(2)} ms`,
    '',
    '| thread | stage | median ms | mean ms |',
    '| --- | --- | ---: | ---: |',
  ];
  for (const stage of run.stages) lines.push(`| ${stage.thread} | ${stage.stage} | ${stage.medianMs.toFixed(3)} | ${stage.meanMs.toFixed(3)} |`);
  lines.push(`| client | loopback, HTTP parse up to the request event, autocannon (client p50 − server p50) | ${(run.load.p50Ms - run.serverMedianMs).toFixed(3)} | |`);
  return lines.join('\n');
}

const ms = (us: number, requests: number) => (us / 1000 / requests).toFixed(3);

function report(run: ProfiledRun): string {
  const requests = run.load.requests;
  const perText = cpuMsPerText(run.threadCpu, requests * run.load.textsPerRequest);
  const lines = [
    `### c=${run.connections}: ${requests} requests, ${run.load.textsPerS.toFixed(0)} texts/s, p50 ${run.load.p50Ms.toFixed(2)} ms, p99 ${run.load.p99Ms.toFixed(2)} ms`,
    '',
    `CPU per request (/proc): main ${perText.main.toFixed(3)} ms, inference threads ${perText.inference.toFixed(3)} ms, helpers ${perText.helpers.toFixed(3)} ms`,
  ];
  const main = run.threads.find((t) => t.threadId === 0)?.samples ?? [];
  const worker = run.threads.find((t) => t.threadId === 1)?.samples ?? [];
  const stages = (samples: readonly Sample[], stageOf: (stack: Sample['stack']) => string) => tally(samples, (stack) => stageOf(stack));
  lines.push('', '| thread | stage | ms / request |', '| --- | --- | ---: |');
  for (const [stage, us] of stages(main, mainStage)) lines.push(`| HTTP | ${stage} | ${ms(us, requests)} |`);
  for (const [stage, us] of stages(worker, workerStage)) lines.push(`| inference | ${stage} | ${ms(us, requests)} |`);
  for (const thread of run.threads) {
    const name = thread.threadId === 0 ? 'HTTP (main) thread' : `worker thread ${thread.threadId}`;
    const total = thread.samples.reduce((sum, s) => sum + s.durationUs, 0);
    lines.push('', `**${name}**: ${ms(total, requests)} ms of wall time per request sampled`, '', '| category | ms / request | share |', '| --- | ---: | ---: |');
    for (const [category, us] of tally(thread.samples, byPackage)) lines.push(`| ${category} | ${ms(us, requests)} | ${((100 * us) / total).toFixed(1)} % |`);
    lines.push('', '| heaviest functions (self) | ms / request |', '| --- | ---: |');
    for (const [fn, us] of [...tally(thread.samples, byFunction)].slice(0, 25)) lines.push(`| \`${fn}\` | ${ms(us, requests)} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  let options: ProfileOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    log((error as Error).message);
    process.exitCode = 2;
    return;
  }
  installChildCleanup();
  const machine = describeMachine();
  const modelDir = await ensureSyntheticModel(SYNTHETIC_MODEL_CACHE, { size: 'full', int8: true });
  const stack = productionStack();
  const logDir = path.join(options.outDir, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  const context: ServerContext = { repo: REPO_ROOT, modelDir, tuning: {}, stack, logDir };
  const taskCpu = machine.nproc * 1024;
  const threads = loadConfig(appContainerEnvironment(stack, taskCpu)).session.intraOpThreads;
  log(`# profile: ours (${options.config} configuration), node ${process.version}, ${machine.nproc} CPUs, ${threads} intra-op threads; load average ${machine.loadAverageAtStart.join(' ')}`);
  if (options.stages) log(`\n${reportStages(await stagesAtConcurrency1(context, options, taskCpu))}`);
  for (const connections of options.connections) {
    const run = await profileAt(context, options, connections, taskCpu);
    log(`\n${report(run)}`);
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`profile: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  });
}
