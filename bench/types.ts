import type { CpuThrottling } from './cgroup';
import type { CpuUsage } from './cpu-usage';
import type { MachineInfo } from './machine';
import type { LoadResult } from './load';
import type { OpenLoopResult } from './open-loop';
import type { TaskShape } from './production';
import type { SweepResult } from './rate-sweep';
import type { RawResult } from './raw';
import type { TelemetryResult } from './telemetry';
import type { CpuMsPerText } from './thread-cpu';
import type { TokenStats } from './token-stats';

/**
 * A measured run, with the CPU each party used meanwhile (the machine was not idle when `cpu.other` ≥ BUSY_CORES)
 * and the server's CPU per text by thread role (bench/thread-cpu.ts).
 */
export type ScenarioResult = LoadResult & { readonly cpu: CpuUsage; readonly threadCpuMsPerText?: CpuMsPerText };
export type OpenLoopPoint = OpenLoopResult & { readonly cpu: CpuUsage };
export const BUSY_CORES = 0.15;

/** ours: production configuration; quiet: ours with tracing off and LOG_LEVEL=warn; int8: ours (production) on the int8 model. */
export type ServerName = 'ours' | 'quiet' | 'peer' | 'int8';

export interface ServerResult {
  readonly name: ServerName;
  readonly description: string;
  readonly startToHealthyMs: number;
  /** VmHWM of the server process over its whole run (all scenarios), MB. */
  readonly peakRssMb: number;
  readonly maxSampledRssMb: number;
  /** Measured runs by scenario id. */
  readonly scenarios: Record<string, ScenarioResult>;
  readonly telemetry?: TelemetryResult;
  /** The server's environment (ours) or arguments (peer), for the record. */
  readonly settings: Readonly<Record<string, string>>;
}

export interface WorstCaseResult {
  readonly scenario: string;
  readonly startToHealthyMs: number;
  readonly peakRssMb: number;
  readonly maxSampledRssMb: number;
  readonly load: ScenarioResult;
  /** Every response was 200 and there were no errors or timeouts. */
  readonly allOk: boolean;
}

/** One text kind under the task's limits. */
export interface TaskShapeKindResult {
  /** Closed loop at saturation: 1 text per request, many connections. */
  readonly saturation: ScenarioResult;
  /** The open-loop rate sweep (1 text per request). */
  readonly sweep: SweepResult<OpenLoopPoint>;
  /** The sweep's sustainable rate in texts/s (1 text per request), undefined if no rate passed. */
  readonly sustainableTextsPerS: number | undefined;
}

export type TaskShapeServerName = 'ours' | 'peer';

export interface TaskShapeServerResult {
  readonly name: TaskShapeServerName;
  readonly description: string;
  readonly startToHealthyMs: number;
  /** VmHWM of the server process over its whole run, MB. */
  readonly peakRssMb: number;
  readonly maxSampledRssMb: number;
  /** The cgroup's own peak (v1 memory.max_usage_in_bytes, v2 memory.peak): RSS plus page cache it touched (model file, log file). */
  readonly cgroupPeakMemoryMb?: number;
  readonly oomKills?: number;
  readonly cpuThrottling?: CpuThrottling;
  /** The limits as applied (cgroup directories), and anything that could not be limited. */
  readonly limitedBy: string;
  readonly kinds: Partial<Record<'short' | 'medium', TaskShapeKindResult>>;
  readonly telemetry?: TelemetryResult;
  /** The server died or a run failed: its numbers are incomplete. */
  readonly error?: string;
}

export interface TaskShapeResult {
  readonly shape: TaskShape;
  readonly cpuCores: number;
  /** The app container's memory limit: the task's memory less the collector sidecar's hard limit. */
  readonly memoryLimitMiB: number;
  readonly collectorMemoryMiB: number;
  readonly collectorReservationMiB?: number;
  /** ORT_INTRA_OP_THREADS from the task definition for this shape (the peer gets the same). */
  readonly intraOpThreads: number;
  readonly options: {
    readonly saturationS: number;
    readonly saturationConnections: number;
    readonly warmupS: number;
    readonly pointS: number;
    readonly settleS: number;
    readonly arrivals: string;
    readonly p99LimitMs: number;
  };
  /** Why the part did not run (no cgroup CPU limit possible here). */
  readonly skipped?: string;
  readonly servers: Partial<Record<TaskShapeServerName, TaskShapeServerResult>>;
}

/** Bulk re-index callers (bench/python-caller.ts, the real Python client), all at once. */
export interface BulkRun {
  readonly callers: number;
  /** Vectors the callers got back. */
  readonly texts: number;
  /** From the first caller's start to the last one's end. */
  readonly seconds: number;
  readonly textsPerS: number;
  readonly callerSeconds: number[];
  /** Texts the client embedded with its local fallback model (an outage: a timeout or repeated 5xx). */
  readonly localFallbackTexts: number;
  /** What the client logged at warning level (outages, switches to the local model). */
  readonly clientWarnings: string[];
}

export interface MixedCase {
  readonly label: string;
  readonly bulk: BulkRun;
  /** The open loop of single short queries that ran meanwhile, if any. */
  readonly queries?: OpenLoopResult;
  readonly cpu: CpuUsage;
}

export interface MixedResult {
  readonly shape: TaskShape;
  readonly cpuCores: number;
  readonly memoryLimitMiB: number;
  readonly bulkKind: string;
  readonly bulkTexts: number;
  readonly queryRatePerS: number;
  readonly startToHealthyMs?: number;
  readonly peakRssMb?: number;
  readonly maxSampledRssMb?: number;
  readonly cpuThrottling?: CpuThrottling;
  readonly limitedBy?: string;
  /** 1 caller alone, 1 caller + queries, 2 callers alone, 2 callers + queries. */
  readonly cases: MixedCase[];
  readonly skipped?: string;
  readonly error?: string;
}

export interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  readonly goal: string;
  /** undefined when the part it needs was not run. */
  readonly pass: boolean | undefined;
}

export interface BenchResults {
  readonly startedAt: string;
  readonly wallS: number;
  /** Wall seconds of each part that ran. */
  readonly partsWallS: Readonly<Record<string, number>>;
  readonly command: string;
  readonly machine: MachineInfo;
  readonly options: { durationS: number; warmupS: number; worstS: number; rawPointS: number; quick: boolean; only: string[]; taskShape?: string };
  readonly modelDir: string;
  /** The task size whose task definition the main table's `ours` runs with: this machine's CPUs as a task. */
  readonly machineTaskCpu: number;
  readonly intraOpThreads: number;
  readonly tokens: TokenStats[];
  readonly servers: Partial<Record<ServerName, ServerResult>>;
  readonly worst?: WorstCaseResult;
  readonly raw?: RawResult;
  /** The raw limit on the int8 model. */
  readonly rawInt8?: RawResult;
  readonly taskShape?: TaskShapeResult;
  readonly mixed?: MixedResult;
  readonly checks: TargetCheck[];
}
