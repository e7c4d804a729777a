import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT, SYNTHETIC_MODEL_CACHE } from '../../scripts/repo-paths';
import { ensureSyntheticModel } from '../../scripts/synthetic-model/cached';
import { createTaskCgroup, removeStaleTaskCgroups, type TaskCgroup } from '../cgroup';
import { describeMachine } from '../machine';
import { appMemoryMiB, formatTaskShape, parseTaskShape, productionStack, type TaskShape } from '../production';
import { log } from '../scenario-run';
import { installChildCleanup, type StartedServer } from '../server-process';
import { runServer, type ServerContext } from '../servers';
import { renderProbe, type ProbeResult, type ScenarioRun } from './report';
import { gzipBombs, hostile, idleAnnouncers, neverReaders } from './scenarios';
import { shutdownTimes } from './shutdown';

/**
 * `npm run probe`: the four target scenarios of issue 20 (idle connections announcing bodies,
 * gzip bodies that inflate to nested brackets, clients that never read their 16 MB responses, and
 * the fuzz plus 10x overload), each against a fresh server process in its production
 * configuration, inside a cgroup of the ECS task's shape (CPU quota and the app container's memory
 * limit); then the time from SIGTERM to exit with a short grace (shutdown.ts). `--repo <dir>`
 * probes another checkout's build (e.g. the commit before a change), so the before and after
 * figures come from the same probe.
 */
const SCENARIOS = ['idle', 'bombs', 'readers', 'hostile', 'shutdown'] as const;
type ScenarioName = (typeof SCENARIOS)[number];

const USAGE = `usage: npm run probe -- [--repo <dir>] [--label <name>] [--only <scenarios>] [--task-shape <cpu>/<memory> | --no-task-shape]
                        [--hold-s <s>] [--bombs-s <s>] [--readers-s <s>] [--fuzz <n>] [--save]
       npm run probe -- --compare <before.json> <after.json>

  --repo <dir>          the checkout whose dist/app/main.js is probed (built; default: this one)
  --label <name>        names the result (default: local)
  --only <scenarios>    some of ${SCENARIOS.join(', ')}
  --task-shape <c>/<m>  the ECS task size the server runs in (default: Pulumi.prod.yaml's); --no-task-shape: unlimited
  --hold-s, --bombs-s, --readers-s   seconds of the idle, bombs and readers scenarios (default 45, 30, 40)
  --fuzz <n>            hostile requests (default 5000)
  --save                write bench/results/probe/<label>.json (committed) instead of .cache/probe/;
                        scenarios not run are kept from the file already there
  --compare a b         print two saved results side by side (markdown)`;

interface ProbeOptions {
  readonly repo: string;
  readonly label: string;
  readonly only: ReadonlySet<ScenarioName>;
  readonly shape: TaskShape | undefined;
  readonly holdS: number;
  readonly bombsS: number;
  readonly readersS: number;
  readonly fuzz: number;
  readonly save: boolean;
}

function parseProbeArgs(argv: readonly string[]): ProbeOptions | { compare: [string, string] } {
  let parsed: ReturnType<typeof readArgs>;
  try {
    parsed = readArgs(argv);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) throw new Error(USAGE);
  if (values.compare) {
    const [before, after] = [values.compare, positionals[0]];
    if (after === undefined) throw new Error(`--compare needs two files\n${USAGE}`);
    return { compare: [before, after] };
  }
  const seconds = (name: string, text: string | undefined, fallback: number) => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!(n > 0 && n <= 600)) throw new Error(`--${name} must be in (0, 600]\n${USAGE}`);
    return n;
  };
  const only = values.only?.split(',').map((p) => p.trim()) ?? [...SCENARIOS];
  const unknown = only.filter((p) => !(SCENARIOS as readonly string[]).includes(p));
  if (unknown.length > 0) throw new Error(`--only: unknown scenario(s) ${unknown.join(', ')}\n${USAGE}`);
  const stack = productionStack();
  return {
    repo: values.repo ? path.resolve(values.repo) : REPO_ROOT,
    label: (values.label ?? 'local').replace(/[^A-Za-z0-9_.-]/g, '_'),
    only: new Set(only as ScenarioName[]),
    shape: values['no-task-shape'] ? undefined : values['task-shape'] ? parseTaskShape(values['task-shape']) : { cpuUnits: stack.cpu, memoryMiB: stack.memory },
    holdS: seconds('hold-s', values['hold-s'], 45),
    bombsS: seconds('bombs-s', values['bombs-s'], 30),
    readersS: seconds('readers-s', values['readers-s'], 40),
    fuzz: Math.max(1, Math.floor(Number(values.fuzz ?? 5000))),
    save: values.save ?? false,
  };
}

const readArgs = (argv: readonly string[]) =>
  parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      repo: { type: 'string' },
      label: { type: 'string' },
      only: { type: 'string' },
      'task-shape': { type: 'string' },
      'no-task-shape': { type: 'boolean' },
      'hold-s': { type: 'string' },
      'bombs-s': { type: 'string' },
      'readers-s': { type: 'string' },
      fuzz: { type: 'string' },
      save: { type: 'boolean' },
      compare: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });

async function probe(options: ProbeOptions): Promise<ProbeResult> {
  installChildCleanup();
  const stack = productionStack();
  const modelDir = await ensureSyntheticModel(SYNTHETIC_MODEL_CACHE, { size: 'full', int8: true });
  const stamp = new Date().toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  const logDir = path.join(REPO_ROOT, '.cache', 'probe', 'logs', `${options.label}-${stamp}`);
  await fs.mkdir(logDir, { recursive: true });
  const context: ServerContext = { repo: options.repo, modelDir, tuning: {}, stack, logDir };
  const taskCpu = options.shape?.cpuUnits ?? stack.cpu;
  const limits = options.shape ? { cpuCores: options.shape.cpuUnits / 1024, memoryBytes: appMemoryMiB(stack, options.shape).appMiB * 2 ** 20 } : undefined;
  if (limits) removeStaleTaskCgroups();
  const machine = describeMachine();
  log(`# probe ${options.label}: ${path.relative(REPO_ROOT, options.repo) || '.'} (${machine.nproc} CPUs, load ${machine.loadAverageAtStart.join(' ')})`);

  const runs: { -readonly [K in Exclude<ScenarioName, 'shutdown'>]?: NonNullable<ProbeResult['scenarios'][K]> } = {};
  const scenario = async <K extends Exclude<ScenarioName, 'shutdown'>>(
    name: K,
    body: (server: StartedServer) => Promise<NonNullable<ProbeResult['scenarios'][K]>['result']>,
    tuning: Record<string, string> = {},
  ) => {
    if (!options.only.has(name)) return;
    let group: TaskCgroup | undefined;
    if (limits) {
      const created = createTaskCgroup(`probe-${name}`, limits);
      group = created.group;
      if (!group) throw new Error(`--task-shape: no cgroup (${created.problems.join('; ')}); run as root, or pass --no-task-shape`);
      log(`\n## ${name}: in ${group.describe()}`);
    } else log(`\n## ${name}: no task shape`);
    try {
      const run = await runServer({ ...context, tuning }, { label: `${options.label}-${name}`, plan: { kind: 'ours', config: 'production', taskCpu }, ...(group ? { launchPrefix: group.launchPrefix() } : {}) }, body);
      const record: ScenarioRun<typeof run.value> = {
        result: run.value,
        peakRssMb: Math.round(run.stop.peakRssMb),
        ...(group?.peakMemoryBytes() !== undefined ? { cgroupPeakMb: Math.round((group.peakMemoryBytes() as number) / 2 ** 20) } : {}),
        ...(group?.oomKills() ? { oomKills: group.oomKills() as number } : {}),
        ...(run.stop.diedEarly ? { diedEarly: run.stop.diedEarly } : {}),
      };
      runs[name] = record as (typeof runs)[K];
      log(`  ${JSON.stringify(record)}`);
    } finally {
      group?.remove();
    }
  };

  await scenario('idle', (server) => idleAnnouncers(server, { connections: 8, holdS: options.holdS }));
  await scenario('bombs', (server) => gzipBombs(server, { clients: 8, durationS: options.bombsS }));
  await scenario('readers', (server) => neverReaders(server, { clients: 24, windowS: options.readersS }));
  // Some fuzz cases announce more body than they send: a short request timeout answers them (408) in 2 s, not 30.
  await scenario('hostile', (server) => hostile(server, { requests: options.fuzz, seed: 20_240_501, halfCloseShare: 0.1 }), { REQUEST_TIMEOUT_MS: '2000' });
  // Six servers of its own (a fault each), outside any cgroup: what is measured is the drain, not the CPU.
  const shutdown = options.only.has('shutdown') ? await shutdownTimes(options.repo, modelDir) : undefined;
  if (shutdown) log(`\n## shutdown\n  ${JSON.stringify(shutdown)}`);

  return {
    label: options.label,
    startedAt: new Date().toISOString(),
    command: ['npm run probe --', ...process.argv.slice(2)].join(' '),
    machine,
    taskShape: options.shape ? `${formatTaskShape(options.shape)} (${limits?.cpuCores} vCPU, app container ${Math.round((limits?.memoryBytes ?? 0) / 2 ** 20)} MiB)` : 'none',
    scenarios: { ...runs, ...(shutdown ? { shutdown } : {}) },
  };
}

async function main(): Promise<void> {
  const parsed = parseProbeArgs(process.argv.slice(2));
  if ('compare' in parsed) {
    const [before, after] = await Promise.all(parsed.compare.map(async (file) => JSON.parse(await fs.readFile(file, 'utf8')) as ProbeResult));
    log(renderProbe([before as ProbeResult, after as ProbeResult]));
    return;
  }
  const result = await probe(parsed);
  log(`\n${renderProbe([result])}`);
  const dir = parsed.save ? path.join(REPO_ROOT, 'bench', 'results', 'probe') : path.join(REPO_ROOT, '.cache', 'probe');
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, `${parsed.label}.json`);
  const earlier = await fs.readFile(file, 'utf8').then((text) => JSON.parse(text) as ProbeResult, () => undefined);
  const merged = earlier ? { ...result, scenarios: { ...earlier.scenarios, ...result.scenarios } } : result;
  await fs.writeFile(file, `${JSON.stringify(merged, null, 2)}\n`);
  log(`wrote ${path.relative(REPO_ROOT, file)}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`probe: ${(error as Error)?.message ?? String(error)}\n`);
  process.exitCode = 1;
});
