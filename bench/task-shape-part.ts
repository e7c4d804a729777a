import { loadConfig } from '../app/config';
import { createTaskCgroup, removeStaleTaskCgroups, type TaskLimits } from './cgroup';
import { CpuMeter, waitUntilIdle } from './cpu-usage';
import { runOpenLoop } from './open-loop';
import { appContainerEnvironment, appMemoryMiB, formatTaskShape, type TaskShape } from './production';
import { P99_LIMIT_MS, passes, sweepRates } from './rate-sweep';
import { describeOpenLoop, describeRun, loadScenario, log, streamsFrom } from './scenario-run';
import type { StartedServer } from './server-process';
import { runServer, startAndMemory, type ServerContext, type ServerPlan } from './servers';
import type { RequestTally } from './telemetry';
import type { TextKind, TextStream } from './texts';
import type { TaskShapeKindResult, TaskShapeResult, TaskShapeServerName, TaskShapeServerResult } from './types';

/**
 * `--task-shape <cpu>/<memory>`: ours (production configuration) and the peer, one at a time, each
 * in a fresh cgroup with the task's CPU quota and the app container's memory limit; the load generator
 * and the OTLP sink stay outside it. Per text kind: the closed-loop saturation rate, then an open-loop
 * rate sweep for the highest rate whose p99 stays within 200 ms.
 */

export interface TaskShapeOptions {
  readonly shape: TaskShape;
  readonly saturationS: number;
  readonly warmupS: number;
  readonly pointS: number;
  readonly settleS: number;
}

/**
 * Enough connections to keep either server busy at 0.5 vCPU (ours batches whatever is queued, the
 * peer runs one request per connection), few enough that a response comes back well within the
 * measured window: at 64, a medium-text request waits for 63 others, several seconds at this size.
 */
const SATURATION_CONNECTIONS = 16;
/** The sweep's reference rate when the closed loop completed nothing (a server that slow starts low and climbs). */
const FALLBACK_REFERENCE_RATE = 10;
/** A rate's measured window is stretched (up to 3×) so that about this many requests fall in it: a p99 needs samples. */
const MIN_REQUESTS_PER_POINT = 30;
const KINDS = ['short', 'medium'] as const;
/** Text ranges of their own (the main parts use 0-7.5 M), so no text repeats across the run. */
const TEXT_OFFSETS: Record<TaskShapeServerName, number> = { ours: 8_000_000, peer: 10_000_000 };

async function benchKind(server: StartedServer, kind: TextKind, texts: (kind: TextKind) => TextStream, tally: RequestTally, options: TaskShapeOptions): Promise<TaskShapeKindResult> {
  const scenario = { id: `task ${kind} 1×c${SATURATION_CONNECTIONS}`, kind, textsPerRequest: 1, connections: SATURATION_CONNECTIONS };
  const saturation = await loadScenario(server, scenario, texts, options.saturationS, options.warmupS, tally);
  log(`  ${kind.padEnd(6)} saturation, closed loop c=${SATURATION_CONNECTIONS}: ${describeRun(saturation)}`);
  const stream = texts(kind);
  const reference = saturation.requestsPerS > 0 ? saturation.requestsPerS : FALLBACK_REFERENCE_RATE;
  const sweep = await sweepRates(reference, async (ratePerS) => {
    // The closed loop left requests behind (the peer has no queue to drop them from), and an overloaded rate may too.
    await waitUntilIdle(server.pid);
    const meter = new CpuMeter(server.pid);
    const result = await runOpenLoop({
      port: server.port,
      ratePerS,
      durationS: Math.max(options.pointS, Math.min(3 * options.pointS, MIN_REQUESTS_PER_POINT / ratePerS)),
      settleS: options.settleS,
      textsPerRequest: 1,
      texts: stream,
      arrivals: 'poisson',
      seed: Math.round(ratePerS * 10) + 1,
    });
    tally.add(result.answeredTotal);
    const point = { ...result, cpu: meter.read() };
    log(`  ${kind.padEnd(6)} open loop ${describeOpenLoop(point, passes(point))}`);
    return point;
  });
  const sustainable = sweep.sustainableRatePerS;
  log(`  ${kind.padEnd(6)} sustainable at p99 ≤ ${P99_LIMIT_MS} ms: ${sustainable === undefined ? 'no rate passed' : `${sustainable} texts/s`} (${sweep.points.length} rates tried)`);
  return { saturation, sweep, sustainableTextsPerS: sustainable };
}

async function benchServerInShape(context: ServerContext, name: TaskShapeServerName, limits: TaskLimits, threads: number, options: TaskShapeOptions): Promise<TaskShapeServerResult> {
  const plan: ServerPlan = name === 'ours' ? { kind: 'ours', config: 'production', taskCpu: options.shape.cpuUnits } : { kind: 'peer', threads };
  const description = name === 'ours' ? 'this service, production configuration' : `Express + transformers.js pipeline, intraOpNumThreads ${threads}`;
  const { group, problems } = createTaskCgroup(name, limits);
  const failed = (error: string, limitedBy: string): TaskShapeServerResult => ({
    name, description, startToHealthyMs: NaN, peakRssMb: NaN, maxSampledRssMb: NaN, limitedBy, kinds: {}, error,
  });
  if (!group) return failed(`no cgroup: ${problems.join('; ')}`, 'nothing');
  log(`\n## task shape ${formatTaskShape(options.shape)}: ${name} (${description}); limits: ${group.describe()}`);
  try {
    const kinds: TaskShapeServerResult['kinds'] = {};
    let error: string | undefined;
    const run = await runServer(context, { label: `task-${formatTaskShape(options.shape).replace('/', '-')}-${name}`, plan, launchPrefix: group.launchPrefix() }, async (server, tally) => {
      const streams = streamsFrom(TEXT_OFFSETS[name]);
      for (const kind of KINDS) {
        try {
          kinds[kind] = await benchKind(server, kind, streams, tally, options);
        } catch (e) {
          error = `${kind}: ${(e as Error).message}`;
          break;
        }
      }
    });
    const peak = group.peakMemoryBytes();
    const oomKills = group.oomKills();
    const throttling = group.cpuThrottling();
    if (throttling) log(`  CPU quota: throttled in ${throttling.throttledPeriods} of ${throttling.periods} periods (${throttling.throttledS.toFixed(1)} s); cgroup peak memory ${peak === undefined ? '?' : (peak / 2 ** 20).toFixed(0)} MB`);
    const diedEarly = run.stop.diedEarly !== undefined ? `${run.stop.diedEarly}${oomKills ? ` (${oomKills} OOM kill${oomKills === 1 ? '' : 's'} in its cgroup)` : ''}` : undefined;
    const problem = [error, diedEarly].filter((p) => p !== undefined).join('; ');
    return {
      name,
      description,
      ...startAndMemory(run),
      ...(peak !== undefined ? { cgroupPeakMemoryMb: peak / 2 ** 20 } : {}),
      ...(oomKills !== undefined ? { oomKills } : {}),
      ...(throttling ? { cpuThrottling: throttling } : {}),
      limitedBy: group.describe(),
      kinds,
      telemetry: run.telemetry,
      ...(problem ? { error: problem } : {}),
    };
  } catch (e) {
    log(`  ⚠ ${name}: ${(e as Error).message}`);
    return failed((e as Error).message.split('\n')[0] ?? 'failed', group.describe());
  } finally {
    const left = group.remove();
    if (left.length > 0) log(`  ⚠ could not remove ${left.join(', ')}`);
  }
}

export async function benchTaskShape(context: ServerContext, options: TaskShapeOptions): Promise<TaskShapeResult> {
  const { shape } = options;
  const memory = appMemoryMiB(context.stack, shape);
  const limits: TaskLimits = { cpuCores: shape.cpuUnits / 1024, memoryBytes: memory.appMiB * 2 ** 20 };
  // What ours will use: the task definition's ORT_INTRA_OP_THREADS unless the bench was given another; the peer gets the same.
  const threads = loadConfig({ ...appContainerEnvironment(context.stack, shape.cpuUnits), ...context.tuning }).session.intraOpThreads;
  const result: Omit<TaskShapeResult, 'servers'> = {
    shape,
    cpuCores: limits.cpuCores,
    memoryLimitMiB: memory.appMiB,
    collectorMemoryMiB: memory.collectorMiB,
    ...(memory.collectorReservationMiB !== undefined ? { collectorReservationMiB: memory.collectorReservationMiB } : {}),
    intraOpThreads: threads,
    options: {
      saturationS: options.saturationS,
      saturationConnections: SATURATION_CONNECTIONS,
      warmupS: options.warmupS,
      pointS: options.pointS,
      settleS: options.settleS,
      arrivals: 'poisson',
      p99LimitMs: P99_LIMIT_MS,
    },
  };
  log(
    `\n## task shape ${formatTaskShape(shape)}: ${limits.cpuCores} vCPU, app container memory ${memory.appMiB} MiB ` +
      `(task ${shape.memoryMiB} MiB less the collector sidecar's hard limit ${memory.collectorMiB} MiB), ${threads} intra-op thread(s)`,
  );
  const stale = removeStaleTaskCgroups();
  if (stale.length > 0) log(`removed cgroups left by an earlier run: ${stale.join(', ')}`);
  const probe = createTaskCgroup('probe', limits);
  const canLimitCpu = probe.group?.dirs.cpu !== undefined;
  probe.group?.remove();
  if (!canLimitCpu) {
    const skipped = `skipped: no CPU limit can be set here (${probe.problems.join('; ') || 'unknown reason'}); run as root on Linux with cgroup v1 or v2 cpu and memory controllers`;
    log(skipped);
    return { ...result, skipped, servers: {} };
  }
  const servers: TaskShapeResult['servers'] = {};
  for (const name of ['ours', 'peer'] as const) servers[name] = await benchServerInShape(context, name, limits, threads, options);
  return { ...result, servers };
}
