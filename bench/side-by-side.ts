import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../app/config';
import { REPO_ROOT, SYNTHETIC_MODEL_CACHE } from '../scripts/repo-paths';
import { ensureSyntheticModel } from '../scripts/synthetic-model/cached';
import { CpuMeter, waitUntilIdle } from './cpu-usage';
import { quantile, runLoad } from './load';
import { runOpenLoop } from './open-loop';
import { describeMachine } from './machine';
import { appContainerEnvironment, productionStack } from './production';
import { log, streamsFrom } from './scenario-run';
import { installChildCleanup, type StartedServer } from './server-process';
import { runServer, type OursConfig, type ServerContext, type ServerPlan } from './servers';
import { cpuMsPerText, ThreadCpuMeter, type ThreadUse } from './thread-cpu';
import type { TextKind, TextStream } from './texts';

/**
 * `node dist/bench/side-by-side.js`: two or more variants of the service (another build, other
 * settings, the peer) running at once, loaded in turns with the same scenarios, round after round,
 * the order reversed every other round, so that a shared, noisy machine's drift hits them alike.
 * Reports each variant's median and the per-round ratios to the first variant, which is how a
 * change is judged; the first variant against a copy of itself (A/A) tells what a ratio means.
 */

const USAGE = `usage: node dist/bench/side-by-side.js --side <spec> --side <spec> [...] [--scenarios <list>] [--rounds <n>] [--duration <s>] [--warmup <s>] [--save]

  --side <spec>     a variant: <label>[:<build dir>][,KEY=VALUE...][,config=quiet][,node=<node binary>]; "peer" as the build
                    runs the peer server. <build dir> holds app/main.js (default: this build); KEY=VALUE are service
                    variables for it; node= runs it on another Node (default: the one running this).
                    e.g. --side before:/tmp/base/dist --side after --side after-nospin,ORT_ALLOW_SPINNING=false
  --scenarios       comma-separated <kind>:<texts per request>x<connections> (closed loop) or <kind>:<texts>@<requests/s>
                    (open loop, Poisson arrivals: the same work offered to every variant, for CPU per text); default short:1x1,short:1x64
  --rounds <n>      rounds (default 4); each round loads every variant once, in turns
  --duration <s>    measured seconds per scenario and variant (default 5), after --warmup (default 1)
  --save            also write the JSON to bench/results/ (default: .cache/bench/)`;

interface Side {
  readonly label: string;
  readonly plan: ServerPlan;
  readonly env: Readonly<Record<string, string>>;
  readonly node?: string;
}

/** Closed loop (`connections` kept busy) or open loop (`ratePerS` requests a second, Poisson arrivals). */
interface SideScenario {
  readonly kind: TextKind;
  readonly textsPerRequest: number;
  readonly connections?: number;
  readonly ratePerS?: number;
}

interface Options {
  readonly sides: readonly Side[];
  readonly scenarios: readonly SideScenario[];
  readonly rounds: number;
  readonly durationS: number;
  readonly warmupS: number;
  readonly save: boolean;
}

/** One variant, one scenario, one round. */
interface Measurement {
  readonly round: number;
  readonly textsPerS: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly failed: number;
  /** CPU per text, ms, by thread role; `outsideInference` = main + helpers. */
  readonly cpuMsPerText: ReturnType<typeof cpuMsPerText>;
  /** Wake-ups (voluntary sleeps) per request of the main thread and of the inference threads. */
  readonly wakeupsPerRequest: { readonly main: number; readonly inference: number };
  /** Cores other processes used meanwhile. */
  readonly otherCores: number;
}

const scenarioName = (s: SideScenario) => `${s.kind}:${s.textsPerRequest}${s.ratePerS !== undefined ? `@${s.ratePerS}` : `x${s.connections}`}`;

function parseSide(spec: string, taskCpu: number): Side {
  const [head = '', ...pairs] = spec.split(',');
  const [label = '', build] = head.split(':');
  if (!/^[\w.-]+$/.test(label)) throw new Error(`--side ${spec}: a label of letters, digits, . _ - first\n${USAGE}`);
  let config: OursConfig = 'production';
  let node: string | undefined;
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`--side ${spec}: "${pair}" is not KEY=VALUE\n${USAGE}`);
    const [key, value] = [pair.slice(0, eq), pair.slice(eq + 1)];
    if (key === 'config') {
      if (value !== 'production' && value !== 'quiet') throw new Error(`--side ${spec}: config is production or quiet`);
      config = value;
    } else if (key === 'node') node = path.resolve(value);
    else env[key] = value;
  }
  if (build === 'peer') {
    const threads = loadConfig({ ...env }).session.intraOpThreads;
    return { label, plan: { kind: 'peer', threads }, env: {}, ...(node ? { node } : {}) };
  }
  const main = build ? path.resolve(build, 'app', 'main.js') : undefined;
  return { label, plan: { kind: 'ours', config, taskCpu, ...(main ? { main } : {}) }, env, ...(node ? { node } : {}) };
}

const DEFAULT_SCENARIOS = 'short:1x1,short:1x64';

function parseScenario(text: string): SideScenario {
  const match = /^(short|medium|long):(\d+)([x@])(\d+(?:\.\d+)?)$/.exec(text.trim());
  if (!match) throw new Error(`--scenarios: "${text}" is not <kind>:<texts>x<connections> or <kind>:<texts>@<rate>\n${USAGE}`);
  const count = Number(match[4]);
  return { kind: match[1] as TextKind, textsPerRequest: Number(match[2]), ...(match[3] === 'x' ? { connections: count } : { ratePerS: count }) };
}

function parseOptions(argv: readonly string[], taskCpu: number): Options {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        side: { type: 'string', multiple: true, default: [] },
        scenarios: { type: 'string', default: DEFAULT_SCENARIOS },
        rounds: { type: 'string', default: '4' },
        duration: { type: 'string', default: '5' },
        warmup: { type: 'string', default: '1' },
        save: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${USAGE}`);
  }
  if (values.help) throw new Error(USAGE);
  const sides = values.side.map((spec) => parseSide(spec, taskCpu));
  const scenarios = values.scenarios.split(',').map(parseScenario);
  const [rounds, durationS, warmupS] = [Number(values.rounds), Number(values.duration), Number(values.warmup)];
  if (sides.length < 2) throw new Error(`at least two --side\n${USAGE}`);
  if (new Set(sides.map((s) => s.label)).size !== sides.length) throw new Error('--side labels must differ');
  if (!(Number.isInteger(rounds) && rounds >= 1 && durationS > 0 && warmupS >= 0)) throw new Error(USAGE);
  return { sides, scenarios, rounds, durationS, warmupS, save: values.save };
}

const perRequest = (used: ThreadUse, requests: number) => ({ main: used.wakeups.main / requests, inference: used.wakeups.inference / requests });

async function measure(server: StartedServer, scenario: SideScenario, texts: TextStream, options: Options, round: number): Promise<Measurement> {
  const { textsPerRequest, ratePerS } = scenario;
  if (ratePerS !== undefined) {
    const cpu = new CpuMeter(server.pid);
    const threads = new ThreadCpuMeter(server.pid);
    const run = await runOpenLoop({ port: server.port, ratePerS, durationS: options.durationS, settleS: options.warmupS, textsPerRequest, texts, seed: round + 1 });
    const used = threads.read();
    return {
      round,
      textsPerS: run.textsPerS,
      p50Ms: run.p50Ms,
      p99Ms: run.p99Ms,
      failed: run.requests - run.ok,
      // The CPU of the whole run (settle included) over every text it answered.
      cpuMsPerText: cpuMsPerText(used.cpuS, run.answeredTotal * textsPerRequest),
      wakeupsPerRequest: perRequest(used, run.answeredTotal),
      otherCores: cpu.read().other,
    };
  }
  const shape = { port: server.port, connections: scenario.connections ?? 1, textsPerRequest, texts };
  if (options.warmupS > 0) await runLoad({ ...shape, durationS: options.warmupS });
  const cpu = new CpuMeter(server.pid);
  const threads = new ThreadCpuMeter(server.pid);
  const load = await runLoad({ ...shape, durationS: options.durationS });
  const used = threads.read();
  return {
    round,
    textsPerS: load.textsPerS,
    p50Ms: load.p50Ms,
    p99Ms: load.p99Ms,
    failed: load.non2xx + load.errors + load.timeouts,
    cpuMsPerText: cpuMsPerText(used.cpuS, load.requests * textsPerRequest),
    wakeupsPerRequest: perRequest(used, load.requests),
    otherCores: cpu.read().other,
  };
}

/** The service's refusals by reason, from its /metrics (the peer has none). */
async function shedCounts(server: StartedServer): Promise<string> {
  const text = await fetch(`http://127.0.0.1:${server.port}/metrics`).then((r) => (r.ok ? r.text() : ''), () => '');
  return text.split('\n').filter((line) => line.startsWith('embedding_shed_requests_total')).join('; ') || 'none';
}

/** Starts every side's server (each stays up for the whole run), then runs `body` with all of them. */
async function withServers(context: ServerContext, sides: readonly Side[], body: (servers: StartedServer[]) => Promise<void>, started: StartedServer[] = []): Promise<void> {
  const side = sides[started.length];
  if (!side) return body(started);
  await runServer(context, { label: `side-${side.label}`, plan: side.plan, extraEnv: side.env, ...(side.node ? { node: side.node } : {}) }, (server) => withServers(context, sides, body, [...started, server]));
}

const median = (values: readonly number[]) => quantile([...values].sort((a, b) => a - b), 0.5);
const range = (values: readonly number[]) => `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;

function report(options: Options, results: Record<string, Record<string, Measurement[]>>): string {
  const [first] = options.sides as [Side];
  const lines: string[] = [];
  for (const scenario of options.scenarios) {
    const name = scenarioName(scenario);
    const base = results[first.label]?.[name] ?? [];
    lines.push(
      '',
      `**${name}** (medians of ${options.rounds} rounds; ratios to ${first.label} per round: median, min–max)`,
      '',
      '| variant | texts/s | p50 ms | p99 ms | CPU ms/text: main | helpers | inference | wake-ups/request: main | inference | texts/s ratio | p50 ratio | main+helpers CPU ratio | other cores |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const side of options.sides) {
      const runs = results[side.label]?.[name] ?? [];
      const ratio = (pick: (m: Measurement) => number) => {
        const values = runs.map((m, i) => pick(m) / pick(base[i] as Measurement));
        return side === first ? '' : `${median(values).toFixed(2)} (${range(values)})`;
      };
      const failed = runs.reduce((sum, m) => sum + m.failed, 0);
      lines.push(
        `| ${side.label}${failed > 0 ? ` ⚠ ${failed} failed` : ''} | ${median(runs.map((m) => m.textsPerS)).toFixed(0)} | ${median(runs.map((m) => m.p50Ms)).toFixed(2)} | ${median(runs.map((m) => m.p99Ms)).toFixed(1)} | ` +
          `${median(runs.map((m) => m.cpuMsPerText.main)).toFixed(3)} | ${median(runs.map((m) => m.cpuMsPerText.helpers)).toFixed(3)} | ${median(runs.map((m) => m.cpuMsPerText.inference)).toFixed(3)} | ` +
          `${median(runs.map((m) => m.wakeupsPerRequest.main)).toFixed(1)} | ${median(runs.map((m) => m.wakeupsPerRequest.inference)).toFixed(1)} | ` +
          `${ratio((m) => m.textsPerS)} | ${ratio((m) => m.p50Ms)} | ${ratio((m) => m.cpuMsPerText.outsideInference)} | ${median(runs.map((m) => m.otherCores)).toFixed(2)} |`,
      );
    }
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const machine = describeMachine();
  const taskCpu = machine.nproc * 1024;
  let options: Options;
  try {
    options = parseOptions(process.argv.slice(2), taskCpu);
  } catch (error) {
    log((error as Error).message);
    process.exitCode = 2;
    return;
  }
  installChildCleanup();
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  const modelDir = await ensureSyntheticModel(SYNTHETIC_MODEL_CACHE, { size: 'full', int8: true });
  const logDir = path.join(REPO_ROOT, '.cache', 'bench', 'logs', `${stamp}-side-by-side`);
  await fs.mkdir(logDir, { recursive: true });
  const stack = productionStack();
  const context: ServerContext = { repo: REPO_ROOT, modelDir, tuning: {}, stack, logDir };
  const command = `node dist/bench/side-by-side.js ${process.argv.slice(2).join(' ')}`;
  log(`# ${command}\n${machine.nproc} CPUs (${machine.cpuModel}), node ${process.version}, load average ${machine.loadAverageAtStart.join(' ')}; task definition for ${taskCpu} CPU units (${appContainerEnvironment(stack, taskCpu).ORT_INTRA_OP_THREADS} intra-op threads)`);

  const results: Record<string, Record<string, Measurement[]>> = {};
  const shed: Record<string, string> = {};
  await withServers(context, options.sides, async (servers) => {
    const streams = options.sides.map((_, i) => streamsFrom(20_000_000 + i * 1_000_000));
    for (let round = 0; round < options.rounds; round++) {
      const order = options.sides.map((side, i) => ({ side, server: servers[i] as StartedServer, texts: streams[i] as (kind: TextKind) => TextStream }));
      if (round % 2 === 1) order.reverse();
      for (const scenario of options.scenarios) {
        for (const { side, server, texts } of order) {
          // The peer keeps computing what a closed loop stopped waiting for: no variant may inherit another's work.
          for (const other of servers) await waitUntilIdle(other.pid);
          const m = await measure(server, scenario, texts(scenario.kind), options, round);
          ((results[side.label] ??= {})[scenarioName(scenario)] ??= []).push(m);
          if (m.failed > 0) shed[side.label] = await shedCounts(server);
          log(`round ${round + 1} ${scenarioName(scenario).padEnd(14)} ${side.label.padEnd(16)} ${m.textsPerS.toFixed(0).padStart(5)} texts/s  p50 ${m.p50Ms.toFixed(2).padStart(7)} ms  p99 ${m.p99Ms.toFixed(1).padStart(7)} ms  CPU/text main ${m.cpuMsPerText.main.toFixed(3)} helpers ${m.cpuMsPerText.helpers.toFixed(3)} inference ${m.cpuMsPerText.inference.toFixed(3)}  other ${m.otherCores.toFixed(2)}${m.failed ? `  ⚠ ${m.failed} failed` : ''}`);
        }
      }
    }
  });
  for (const [label, counts] of Object.entries(shed)) log(`${label}: refusals so far by reason: ${counts}`);
  const markdown = report(options, results);
  log(`\n${command}\n${markdown}`);
  const dir = options.save ? path.join(REPO_ROOT, 'bench', 'results') : path.join(REPO_ROOT, '.cache', 'bench');
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, `${stamp}-side-by-side-${options.sides.map((s) => s.label).join('-')}.json`);
  const sides = options.sides.map((s) => ({ label: s.label, plan: s.plan.kind === 'ours' ? { ...s.plan, main: s.plan.main && path.relative(REPO_ROOT, s.plan.main) } : s.plan, env: s.env, node: s.node }));
  await fs.writeFile(file, `${JSON.stringify({ startedAt: startedAt.toISOString(), command, machine, options: { ...options, sides }, results }, null, 2)}\n`);
  log(`wrote ${path.relative(REPO_ROOT, file)}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`side-by-side: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exitCode = 1;
});
