import type { MachineInfo } from '../machine';
import type { GzipBombsResult, HostileResult, IdleAnnouncersResult, NeverReadersResult } from './scenarios';
import type { ShutdownCase } from './shutdown';

/** One scenario's figures and what the server process itself showed (peak RSS, its cgroup's memory, OOM kills). */
export interface ScenarioRun<T> {
  readonly result: T;
  readonly peakRssMb: number;
  readonly cgroupPeakMb?: number;
  readonly oomKills?: number;
  readonly diedEarly?: string;
}

export interface ProbeResult {
  readonly label: string;
  readonly startedAt: string;
  readonly command: string;
  readonly machine: MachineInfo;
  readonly taskShape: string;
  readonly scenarios: {
    readonly idle?: ScenarioRun<IdleAnnouncersResult>;
    readonly bombs?: ScenarioRun<GzipBombsResult>;
    readonly readers?: ScenarioRun<NeverReadersResult>;
    readonly hostile?: ScenarioRun<HostileResult>;
    readonly shutdown?: readonly ShutdownCase[];
  };
}

type Row = readonly [label: string, target: string, value: (result: ProbeResult) => string | undefined];

const counts = (byKey: Record<string, number>) => Object.entries(byKey).map(([key, n]) => `${key}×${n}`).join(' ');
const memory = (run: ScenarioRun<unknown> | undefined) =>
  run && `${run.peakRssMb} MB${run.oomKills ? `, ${run.oomKills} OOM kill(s)` : ''}${run.diedEarly ? ` (${run.diedEarly})` : ''}`;

const ROWS: readonly Row[] = [
  ['**8 idle connections announcing 2 MB, held**', '', (r) => r.scenarios.idle && `${r.scenarios.idle.result.holdS} s`],
  ['normal requests refused', '0', (r) => r.scenarios.idle && `${r.scenarios.idle.result.normalRefused} of ${r.scenarios.idle.result.normalRequests}`],
  ['answers to the idle connections', '', (r) => r.scenarios.idle && (counts(r.scenarios.idle.result.answers) || 'none')],
  ['sockets the server holds at the end, over those before (one is the probe\'s keep-alive)', '+1', (r) => r.scenarios.idle && `+${r.scenarios.idle.result.serverSockets.atEnd - r.scenarios.idle.result.serverSockets.before}`],
  ['SIGTERM → exit, connections still held', 'grace + 2 s', (r) => r.scenarios.idle && `${(r.scenarios.idle.result.shutdownMs / 1000).toFixed(1)} s`],
  ['**8 clients looping on gzip bodies inflating to 2 MB of brackets**', '', (r) => r.scenarios.bombs && `${r.scenarios.bombs.result.durationS} s, ${r.scenarios.bombs.result.bombBytes} B each`],
  ['bodies answered', '', (r) => r.scenarios.bombs && `${r.scenarios.bombs.result.bombs}: ${counts(r.scenarios.bombs.result.bombAnswers)}`],
  ['/health p50 / p99 / max', 'p99 < 250 ms', (r) => r.scenarios.bombs && `${r.scenarios.bombs.result.health.p50Ms} / ${r.scenarios.bombs.result.health.p99Ms} / ${r.scenarios.bombs.result.health.maxMs} ms (${r.scenarios.bombs.result.health.failed} failed)`],
  ['normal requests refused', '0', (r) => r.scenarios.bombs && `${r.scenarios.bombs.result.normalRefused} of ${r.scenarios.bombs.result.normalRequests}`],
  ['peak RSS', '< 600 MB', (r) => memory(r.scenarios.bombs)],
  ['**24 clients that never read a 16 MB response**', '', (r) => r.scenarios.readers && `${r.scenarios.readers.result.windowS} s`],
  ['peak RSS', '< 600 MB', (r) => memory(r.scenarios.readers)],
  ['requests (a 503 is retried after 1 s) and answers', '', (r) => r.scenarios.readers && `${r.scenarios.readers.result.requests}: ${counts(r.scenarios.readers.result.answers)}`],
  ['unread 200s: cut by the server / sent whole', '', (r) => r.scenarios.readers && `${r.scenarios.readers.result.cutByServer} / ${r.scenarios.readers.result.complete}`],
  ['longest an unread 200 kept its connection open', 'the write timeout', (r) => r.scenarios.readers && `${r.scenarios.readers.result.longestOpenS} s`],
  ['normal requests refused meanwhile', '', (r) => r.scenarios.readers && `${r.scenarios.readers.result.normalRefused} of ${r.scenarios.readers.result.normalRequests}`],
  ['**fuzz: hostile requests (10 % half-closed)**', '≥ 5,000', (r) => r.scenarios.hostile && `${r.scenarios.hostile.result.fuzz.requests} (${r.scenarios.hostile.result.fuzz.halfClosed} half-closed)`],
  ['5xx other than 503 overloaded / non-JSON / stack traces', '0 / 0 / 0', (r) => r.scenarios.hostile && `${r.scenarios.hostile.result.fuzz.other5xx} / ${r.scenarios.hostile.result.fuzz.nonJson} / ${r.scenarios.hostile.result.fuzz.stackTraces}`],
  ['closed unanswered: half-closed / other', '', (r) => r.scenarios.hostile && `${r.scenarios.hostile.result.fuzz.unansweredHalfClosed} / ${r.scenarios.hostile.result.fuzz.unansweredOther}`],
  ['**10x overload** (capacity → offered)', '', (r) => r.scenarios.hostile && `${r.scenarios.hostile.result.overload.capacityPerS} → ${r.scenarios.hostile.result.overload.offeredPerS} req/s, ${r.scenarios.hostile.result.overload.requests} requests`],
  ['statuses', '', (r) => r.scenarios.hostile && counts(r.scenarios.hostile.result.overload.statuses)],
  ['5xx other than 503 overloaded / non-JSON', '0 / 0', (r) => r.scenarios.hostile && `${r.scenarios.hostile.result.overload.other5xx} / ${r.scenarios.hostile.result.overload.nonJson}`],
  ['/health p99 during it', '', (r) => r.scenarios.hostile && `${r.scenarios.hostile.result.overload.health.p99Ms} ms`],
  ['crashes (fuzz and overload)', '0', (r) => r.scenarios.hostile && (r.scenarios.hostile.result.crashed ? 'crashed' : `0${r.scenarios.hostile.result.healthyAfter ? ', healthy after' : ', NOT healthy after'}`)],
  ['**SIGTERM → exit, 1 s grace, 8 requests in flight**: trace collector answering / silent', 'grace + 2 s', () => ''],
  ...(['normal', 'hung', 'stuck'] as const).map((run): Row => [
    `run ${run === 'normal' ? 'going normally' : run === 'hung' ? 'hung' : 'stuck in native code (the process kills itself)'}`,
    '≤ 3.0 s',
    (r) => {
      const cases = r.scenarios.shutdown?.filter((c) => c.run === run);
      if (!cases || cases.length === 0) return undefined;
      return cases.map((c) => `${(c.exitMs / 1000).toFixed(1)} s`).join(' / ');
    },
  ]),
];

/** The results side by side, one column each, with the issue's targets. */
export function renderProbe(results: readonly ProbeResult[]): string {
  const shapes = [...new Set(results.map((r) => r.taskShape))].join(', ');
  const header = `Task shape: ${shapes}.\n\n| scenario | target | ${results.map((r) => r.label).join(' | ')} |`;
  const rule = `| --- | --- | ${results.map(() => '---').join(' | ')} |`;
  const rows = ROWS.map(([label, target, value]) => `| ${label} | ${target} | ${results.map((r) => value(r) ?? '-').join(' | ')} |`);
  return [header, rule, ...rows].join('\n');
}
