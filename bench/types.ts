import type { CpuUsage } from './cpu-usage';
import type { MachineInfo } from './machine';
import type { LoadResult } from './load';
import type { RawResult } from './raw';
import type { TokenStats } from './token-stats';

/** A measured run, with the CPU each party used meanwhile (the machine was not idle when `cpu.other` ≥ BUSY_CORES). */
export type ScenarioResult = LoadResult & { readonly cpu: CpuUsage };
export const BUSY_CORES = 0.15;

export type ServerName = 'ours' | 'peer' | 'int8';

export interface ServerResult {
  readonly name: ServerName;
  readonly description: string;
  readonly startToHealthyMs: number;
  /** VmHWM of the server process over its whole run (all scenarios), MB. */
  readonly peakRssMb: number;
  readonly maxSampledRssMb: number;
  /** Measured runs by scenario id. */
  readonly scenarios: Record<string, ScenarioResult>;
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
  readonly command: string;
  readonly machine: MachineInfo;
  readonly options: { durationS: number; warmupS: number; worstS: number; rawPointS: number; quick: boolean; only: string[] };
  readonly modelDir: string;
  readonly intraOpThreads: number;
  readonly tokens: TokenStats[];
  readonly servers: Partial<Record<ServerName, ServerResult>>;
  readonly worst?: WorstCaseResult;
  readonly raw?: RawResult;
  /** The raw limit on the int8 model. */
  readonly rawInt8?: RawResult;
  readonly checks: TargetCheck[];
}
