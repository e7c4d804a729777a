import { CpuMeter } from './cpu-usage';
import { runLoad } from './load';
import type { OpenLoopResult } from './open-loop';
import type { Scenario } from './scenarios';
import type { StartedServer } from './server-process';
import type { RequestTally } from './telemetry';
import { cpuMsPerText, ThreadCpuMeter } from './thread-cpu';
import { TextStream, type TextKind } from './texts';
import { BUSY_CORES, type ScenarioResult } from './types';

export const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** One stream per text kind, each from its own range starting at `start`: no text is sent twice in a run. */
export function streamsFrom(start: number): (kind: TextKind) => TextStream {
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

const busy = (other: number) => (other >= BUSY_CORES ? `, other processes ${other.toFixed(2)} (not idle)` : '');

export const describeRun = (run: ScenarioResult): string =>
  `${run.textsPerS.toFixed(0).padStart(6)} texts/s  p50 ${run.p50Ms.toFixed(1).padStart(7)} ms  p99 ${run.p99Ms.toFixed(1).padStart(7)} ms` +
  `  cpu: server ${run.cpu.server.toFixed(2)}, load generator ${run.cpu.loadGenerator.toFixed(2)}${busy(run.cpu.other)}` +
  (run.flagged ? `  ⚠ non-2xx ${run.non2xx}, errors ${run.errors}, timeouts ${run.timeouts}` : '');

export const describeOpenLoop = (run: OpenLoopResult & { cpu: ScenarioResult['cpu'] }, pass: boolean): string =>
  `${run.targetRatePerS.toFixed(1).padStart(7)} req/s offered ${run.offeredRatePerS.toFixed(1).padStart(7)}  p50 ${run.p50Ms.toFixed(1).padStart(7)} ms  p99 ${run.p99Ms.toFixed(1).padStart(7)} ms` +
  `  (from the send ${run.serviceP99Ms.toFixed(1)} ms)  cpu: server ${run.cpu.server.toFixed(2)}${busy(run.cpu.other)}` +
  (run.flagged ? `  ⚠ non-2xx ${run.non2xx}, errors ${run.errors}, timeouts ${run.timeouts}` : '') +
  (pass ? '  pass' : '  FAIL');

/** A closed-loop scenario: an uncounted warm-up of the same shape, then the measured run with the CPU each party used. */
export async function loadScenario(
  server: StartedServer,
  scenario: Scenario,
  streams: (kind: TextKind) => TextStream,
  durationS: number,
  warmupS: number,
  tally?: RequestTally,
): Promise<ScenarioResult> {
  const texts = streams(scenario.kind);
  const shape = { port: server.port, connections: scenario.connections, textsPerRequest: scenario.textsPerRequest, texts };
  if (warmupS > 0) {
    const warmup = await runLoad({ ...shape, durationS: warmupS });
    tally?.add(warmup.requests + warmup.non2xx);
  }
  const meter = new CpuMeter(server.pid);
  const threads = new ThreadCpuMeter(server.pid);
  const run = await runLoad({ ...shape, durationS });
  const used = threads.read();
  tally?.add(run.requests + run.non2xx);
  return { ...run, cpu: meter.read(), threadCpuMsPerText: cpuMsPerText(used.cpuS, run.requests * run.textsPerRequest) };
}
