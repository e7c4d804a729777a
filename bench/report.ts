import { QUERY_SHARE } from './mixed';
import { formatTaskShape } from './production';
import type { RawResult } from './raw';
import { SCENARIOS, WORST_CASE, scenarioId, scenarioLabel } from './scenarios';
import { BUSY_CORES, type BenchResults, type MixedCase, type MixedResult, type ScenarioResult, type TargetCheck, type TaskShapeKindResult, type TaskShapeResult } from './types';
import type { CpuMsPerText } from './thread-cpu';

const num = (value: number | undefined, digits = 0): string =>
  value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
const ms = (value: number | undefined): string => (value === undefined || !Number.isFinite(value) ? '–' : value < 10 ? value.toFixed(2) : value.toFixed(1));
const ratio = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined || !(b > 0) ? undefined : a / b;
const times = (value: number | undefined): string => (value !== undefined && Number.isFinite(value) ? `${value.toFixed(2)}×` : '–');
const flag = (run: { flagged: boolean; cpu: { other: number } } | undefined): string =>
  (run?.flagged ? ' ⚠' : '') + (run !== undefined && run.cpu.other >= BUSY_CORES ? ' †' : '');

type Results = Omit<BenchResults, 'checks' | 'wallS' | 'partsWallS'> & { wallS?: number; partsWallS?: BenchResults['partsWallS'] };

/** The headroom the desiredCount rule keeps: plan each task at (1 − HEADROOM) × its measured sustainable rate. */
export const HEADROOM = 0.3;

/**
 * Tasks for a peak load: each text of a kind uses 1 ÷ (that kind's sustainable texts/s) of a task;
 * the sum, divided by (1 − headroom), rounded up, at least 1.
 */
export function tasksNeeded(peakTextsPerS: Partial<Record<'short' | 'medium', number>>, sustainable: Partial<Record<'short' | 'medium', number>>, headroom = HEADROOM): number | undefined {
  let load = 0;
  for (const [kind, peak] of Object.entries(peakTextsPerS) as Array<['short' | 'medium', number]>) {
    if (!(peak > 0)) continue;
    const rate = sustainable[kind];
    if (!(rate !== undefined && rate > 0)) return undefined;
    load += peak / rate;
  }
  return Math.max(1, Math.ceil(load / (1 - headroom) - 1e-9));
}

const sustainableOf = (t: TaskShapeResult | undefined, server: 'ours' | 'peer', kind: 'short' | 'medium') => t?.servers[server]?.kinds[kind]?.sustainableTextsPerS;

/** Every target: measured value, goal, PASS/MISS (n/a when its part was not run). `ours` is the production configuration. */
export function checkTargets(r: Results): TargetCheck[] {
  const ours = r.servers.ours?.scenarios;
  const peer = r.servers.peer?.scenarios;
  const int8 = r.servers.int8?.scenarios;
  const checks: TargetCheck[] = [];
  const add = (target: string, value: number | undefined, goal: string, pass: (v: number) => boolean, show: (v: number) => string = times) =>
    checks.push({ target, measured: value === undefined ? 'n/a' : show(value), goal, pass: value === undefined ? undefined : pass(value) });
  const mb = (v: number) => (Number.isFinite(v) ? `${v.toFixed(0)} MB` : 'failed');

  const c64 = scenarioId('short', 1, 64);
  add('production configuration, short, 1 text, c=64: ours / raw limit texts/s', ratio(ours?.[c64]?.textsPerS, r.raw?.best.short?.textsPerS), '≥ 0.85×', (v) => v >= 0.85);
  add('production configuration, short, 1 text, c=64: ours / peer texts/s', ratio(ours?.[c64]?.textsPerS, peer?.[c64]?.textsPerS), '≥ 2.5×', (v) => v >= 2.5);
  for (const kind of ['short', 'medium'] as const) {
    const id = scenarioId(kind, 1, 1);
    add(`production configuration, ${kind}, c=1: ours p50 / raw single-text latency`, ratio(ours?.[id]?.p50Ms, r.raw?.best[kind]?.singleTextP50Ms), '≤ 1.3×', (v) => v <= 1.3);
  }
  for (const kind of ['short', 'medium'] as const) {
    const id = scenarioId(kind, 1, 64);
    add(`production configuration, ${kind}, 1 text, c=64: int8 / fp32 texts/s over HTTP`, ratio(int8?.[id]?.textsPerS, ours?.[id]?.textsPerS), '≥ 1.3×', (v) => v >= 1.3);
  }
  const t = r.taskShape;
  const shape = t ? formatTaskShape(t.shape) : 'task';
  const ran = t !== undefined && t.skipped === undefined && t.servers.ours !== undefined && t.servers.peer !== undefined;
  for (const kind of ['short', 'medium'] as const) {
    // A server with no passing rate sustains 0: ours/peer is ∞ when only the peer has none, 0 when ours has none.
    const a = sustainableOf(t, 'ours', kind) ?? 0;
    const b = sustainableOf(t, 'peer', kind) ?? 0;
    add(`task shape ${shape}, ${kind}: ours / peer sustainable texts/s at p99 ≤ 200 ms`, ran ? (b > 0 ? a / b : a > 0 ? Infinity : 0) : undefined, '≥ 2×', (v) => v >= 2, (v) =>
      v === Infinity ? `${a} texts/s vs none (the peer passed no rate)` : times(v),
    );
  }
  const taskOurs = t?.servers.ours;
  add(`task shape ${shape}: ours peak RSS (VmHWM), collector's ${t?.collectorMemoryMiB ?? 192} MB beside it`, t?.skipped ? undefined : taskOurs ? (taskOurs.error ? Infinity : taskOurs.peakRssMb) : undefined, '≤ 600 MB', (v) => v <= 600, mb);
  // Earlier targets that no new one replaces.
  for (const kind of ['short', 'medium'] as const) {
    const id = scenarioId(kind, 1, 64);
    add(`${kind}, 1 text, c=64: ours p99 / peer p99`, ratio(ours?.[id]?.p99Ms, peer?.[id]?.p99Ms), '≤ 0.5×', (v) => v <= 0.5);
  }
  add('ours (fp32, production configuration) peak RSS over its whole run', r.servers.ours?.peakRssMb, '≤ 350 MB', (v) => v <= 350, mb);
  const starts = [r.servers.ours?.startToHealthyMs, r.servers.quiet?.startToHealthyMs, r.servers.int8?.startToHealthyMs, r.worst?.startToHealthyMs].filter((v): v is number => v !== undefined);
  add('ours start to healthy (slowest of our starts on the whole machine)', starts.length > 0 ? Math.max(...starts) : undefined, '≤ 1500 ms', (v) => v <= 1500, (v) => `${v.toFixed(0)} ms`);
  add(`worst case (${r.worst?.scenario ?? WORST_CASE.id}) peak RSS, all 200`, r.worst?.allOk === false ? Infinity : r.worst?.peakRssMb, '≤ 700 MB', (v) => v <= 700, mb);
  if (r.wallS !== undefined && r.mixed === undefined) add('whole `npm run bench` wall time', r.wallS, '≤ 720 s', (v) => v <= 720, (v) => `${v.toFixed(0)} s`);
  checks.push(...mixedChecks(r.mixed));
  return checks;
}

/** The mixed part's cases by callers: alone and with queries. */
const mixedCases = (m: MixedResult, callers: number) => ({
  alone: m.cases.find((c) => c.bulk.callers === callers && c.queries === undefined),
  mixed: m.cases.find((c) => c.bulk.callers === callers && c.queries !== undefined),
});

/** The targets of the mixed traffic (issues 14 and 21): queries fast and never refused while bulk runs, bulk barely slowed. */
export function mixedChecks(m: MixedResult | undefined): TargetCheck[] {
  if (m === undefined) return [];
  const checks: TargetCheck[] = [];
  const add = (target: string, value: number | undefined, goal: string, pass: (v: number) => boolean, show: (v: number) => string) =>
    checks.push({ target, measured: value === undefined ? 'n/a' : show(value), goal, pass: value === undefined ? undefined : pass(value) });
  const shape = formatTaskShape(m.shape);
  for (const callers of [1, 2]) {
    const { alone, mixed } = mixedCases(m, callers);
    const q = mixed?.queries;
    const where = `mixed traffic, task shape ${shape}, ${callers} bulk caller${callers === 1 ? '' : 's'} + queries at ${m.queryRatePerS}/s`;
    add(`${where}: query p99`, q?.p99Ms, '≤ 250 ms', (v) => v <= 250, (v) => `${ms(v)} ms`);
    add(`${where}: queries refused or failed`, q ? q.requests - q.ok : undefined, '0', (v) => v === 0, (v) => `${v} of ${q?.requests}`);
    add(`${where}: bulk texts/s with queries / alone`, ratio(mixed?.bulk.textsPerS, alone?.bulk.textsPerS), '≥ 0.85×', (v) => v >= 0.85, times);
    add(`${where}: texts the client embedded locally (fallback)`, mixed?.bulk.localFallbackTexts, '0', (v) => v === 0, (v) => `${v} of ${mixed?.bulk.texts}`);
  }
  return checks;
}

/** The mixed part: one row per case. */
export function mixedSection(r: { mixed?: MixedResult }): string {
  const m = r.mixed;
  if (!m) return '';
  const shape = formatTaskShape(m.shape);
  if (m.skipped || m.cases.length === 0) return `**Mixed traffic, task shape ${shape}**: not measured (${m.skipped ?? m.error ?? 'no case ran'}).`;
  const row = (c: MixedCase) => {
    const alone = mixedCases(m, c.bulk.callers).alone;
    const q = c.queries;
    return `| ${c.label} | ${c.bulk.texts} | ${c.bulk.seconds.toFixed(1)} | ${num(c.bulk.textsPerS, 1)} | ${c.queries ? times(ratio(c.bulk.textsPerS, alone?.bulk.textsPerS)) : ''} | ${c.bulk.localFallbackTexts} | ` +
      `${q ? q.requests : ''} | ${q ? ms(q.p50Ms) : ''} | ${q ? ms(q.p99Ms) : ''} | ${q ? q.non2xx : ''} | ${q ? q.errors + q.timeouts : ''} | ${c.cpu.server.toFixed(2)} |`;
  };
  const throttled = m.cpuThrottling ? `; CPU quota throttled in ${Math.round((100 * m.cpuThrottling.throttledPeriods) / Math.max(1, m.cpuThrottling.periods))} % of periods` : '';
  return [
    `**Mixed traffic, task shape ${shape}**: ${m.cpuCores} vCPU, ${m.memoryLimitMiB} MiB; ours in the production configuration. Each case re-indexes ${m.bulkTexts} distinct ${m.bulkKind} texts through ` +
      `the real Python client (clients/python/embedding_client.py, ${'`'}encode(texts, use_cache=False)${'`'} per caller as Django's rag_service calls it, one Python process per caller), ` +
      `split evenly between the callers; with queries, single short texts arrive open-loop (Poisson) at ${m.queryRatePerS}/s for ${Math.round(QUERY_SHARE * 100)} % of the time the same bulk took alone, ` +
      `latency from the scheduled send; the callers and the query generator run outside the task's limits. Peak RSS ${num(m.peakRssMb)} MB${throttled}.${m.error ? ` ⚠ ${m.error}` : ''}`,
    '| case | bulk texts | seconds | bulk texts/s | vs alone | local fallback texts | queries | query p50 ms | query p99 ms | refused (503) | failed | server cores |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n' +
      m.cases.map(row).join('\n'),
  ].join('\n\n');
}

/** The main table: one row per scenario, ours (production) | peer | int8 | ratios. */
export function scenarioTable(r: Results): string {
  const ours = r.servers.ours?.scenarios ?? {};
  const peer = r.servers.peer?.scenarios ?? {};
  const int8 = r.servers.int8?.scenarios ?? {};
  const lines = [
    '| scenario | ours texts/s | ours p50 ms | ours p99 ms | peer texts/s | peer p50 ms | peer p99 ms | int8 texts/s | ours/peer texts/s | p99 ours/peer | ours/raw | int8/ours |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const s of SCENARIOS) {
    const o = ours[s.id];
    const p = peer[s.id];
    const q = int8[s.id];
    const raw = r.raw?.best[s.kind]?.textsPerS;
    lines.push(
      `| ${scenarioLabel(s)} | ${num(o?.textsPerS)}${flag(o)} | ${ms(o?.p50Ms)} | ${ms(o?.p99Ms)} | ` +
        `${num(p?.textsPerS)}${flag(p)} | ${ms(p?.p50Ms)} | ${ms(p?.p99Ms)} | ${num(q?.textsPerS)}${flag(q)} | ` +
        `${times(ratio(o?.textsPerS, p?.textsPerS))} | ${times(ratio(o?.p99Ms, p?.p99Ms))} | ${times(ratio(o?.textsPerS, raw))} | ${times(ratio(q?.textsPerS, o?.textsPerS))} |`,
    );
  }
  return lines.join('\n');
}

/** Production configuration next to the quiet one: what tracing and a log line per request cost. */
export function telemetryCostTable(r: Results): string {
  const prod = r.servers.ours?.scenarios;
  const quiet = r.servers.quiet?.scenarios;
  if (!prod || !quiet) return '';
  const lines = [
    '| scenario | production texts/s | p50 ms | p99 ms | quiet texts/s | p50 ms | p99 ms | production/quiet texts/s | p50 production/quiet |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const s of SCENARIOS) {
    const o = prod[s.id];
    const q = quiet[s.id];
    lines.push(
      `| ${scenarioLabel(s)} | ${num(o?.textsPerS)}${flag(o)} | ${ms(o?.p50Ms)} | ${ms(o?.p99Ms)} | ${num(q?.textsPerS)}${flag(q)} | ${ms(q?.p50Ms)} | ${ms(q?.p99Ms)} | ` +
        `${times(ratio(o?.textsPerS, q?.textsPerS))} | ${times(ratio(o?.p50Ms, q?.p50Ms))} |`,
    );
  }
  return lines.join('\n');
}

/** What each server exported and logged over its run. */
export function telemetryTable(r: Results): string {
  const rows = [
    ...Object.values(r.servers).map((s) => [s.name, s.telemetry] as const),
    ...Object.values(r.taskShape?.servers ?? {}).map((s) => [`task ${s.name}`, s.telemetry] as const),
  ].filter(([, t]) => t !== undefined);
  if (rows.length === 0) return '';
  const lines = [
    '| server | responses | spans exported | spans / response | OTLP exports | log lines | log bytes / response | error lines (caller gone) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const [name, t] of rows) {
    if (!t) continue;
    lines.push(
      `| ${name} | ${t.requestsServed} | ${t.traces ? t.traces.spans : 'tracing off'} | ${t.traces ? t.traces.spansPerRequest.toFixed(2) : '–'} | ${t.traces?.exports ?? '–'} | ` +
        `${t.logLines} | ${t.logBytesPerRequest.toFixed(0)} | ${t.errorLines} (${t.abortedLines})${t.errorLines > t.abortedLines ? ' ⚠' : ''} |`,
    );
  }
  return lines.join('\n');
}

/** Start-up, memory, worst case and raw limits. */
export function summaryTable(r: Results): string {
  const lines = ['| measure | value |', '| --- | ---: |'];
  for (const s of Object.values(r.servers)) {
    lines.push(`| ${s.name} (${s.description}): start to healthy | ${s.startToHealthyMs.toFixed(0)} ms |`);
    lines.push(`| ${s.name}: peak RSS over its whole run (VmHWM) | ${s.peakRssMb.toFixed(0)} MB |`);
  }
  if (r.worst) {
    const w = r.worst;
    lines.push(
      `| worst case, ours fp32, ${scenarioLabel(WORST_CASE)} (${r.tokens.find((t) => t.kind === 'long')?.mean.toFixed(0) ?? '?'} tokens before truncation): peak RSS | ${w.peakRssMb.toFixed(0)} MB |`,
    );
    lines.push(`| worst case: responses (all 200?) | ${w.load.requests} × 200, ${w.load.non2xx} non-2xx, ${w.load.errors} errors${w.allOk ? '' : ' ⚠'} |`);
    lines.push(`| worst case: texts/s, p50 / p99 | ${num(w.load.textsPerS)}, ${ms(w.load.p50Ms)} / ${ms(w.load.p99Ms)} ms |`);
  }
  for (const [label, raw] of [['raw limit', r.raw], ['raw limit int8', r.rawInt8]] as const) {
    if (!raw) continue;
    for (const [kind, best] of Object.entries(raw.best)) {
      lines.push(`| ${label}, ${kind}: best texts/s (batch ${best.batchSize}) | ${num(best.textsPerS)} |`);
      lines.push(`| ${label}, ${kind}: single-text latency (batch 1, p50) | ${ms(best.singleTextP50Ms)} ms |`);
    }
  }
  lines.push(`| mean tokens per text (short / medium / long, [CLS] [SEP] included, before truncation) | ${r.tokens.map((t) => t.mean.toFixed(1)).join(' / ')} |`);
  return lines.join('\n');
}

/** The task shape: the limits, ours next to the peer per text kind, and every rate the sweep tried. */
const sumCpu = (cpu: CpuMsPerText | undefined): number | undefined => (cpu ? cpu.main + cpu.helpers + cpu.inference : undefined);

export function taskShapeSection(r: Results): string {
  const t = r.taskShape;
  if (!t) return '';
  const head =
    `**Task shape ${formatTaskShape(t.shape)}**: ${t.cpuCores} vCPU (CFS quota), app container memory limit ${t.memoryLimitMiB} MiB ` +
    `(the task's ${t.shape.memoryMiB} MiB less the collector sidecar's hard limit of ${t.collectorMemoryMiB} MiB), ${t.intraOpThreads} intra-op thread(s) for both servers; ` +
    `load generator and OTLP sink outside the limits. Closed loop at saturation: ${t.options.saturationConnections} connections, ${t.options.saturationS} s; ` +
    `open loop: Poisson arrivals, ${t.options.settleS} s settle + ${t.options.pointS} s measured per rate, latency from the scheduled send; ` +
    `sustainable = the highest rate with every request 200 and p99 ≤ ${t.options.p99LimitMs} ms.`;
  if (t.skipped) return `${head}\n\n**Not run**: ${t.skipped}`;
  const o = t.servers.ours;
  const p = t.servers.peer;
  const lines = ['| measure | ours | peer | ours/peer |', '| --- | ---: | ---: | ---: |'];
  const row = (label: string, a: number | undefined, b: number | undefined, show: (v: number | undefined) => string, better = true) =>
    lines.push(`| ${label} | ${show(a)} | ${show(b)} | ${better ? times(ratio(a, b)) : ''} |`);
  for (const kind of ['short', 'medium'] as const) {
    const ok = o?.kinds[kind];
    const pk = p?.kinds[kind];
    row(`${kind}: sustainable texts/s at p99 ≤ ${t.options.p99LimitMs} ms (open loop)`, ok?.sustainableTextsPerS, pk?.sustainableTextsPerS, (v) => num(v, 1));
    row(`${kind}: texts/s at saturation (closed loop, c=${t.options.saturationConnections})`, ok?.saturation.textsPerS, pk?.saturation.textsPerS, (v) => num(v));
    row(`${kind}: p99 at saturation, ms`, ok?.saturation.p99Ms, pk?.saturation.p99Ms, ms, false);
    const cpu = (s: TaskShapeKindResult | undefined) => s?.saturation.threadCpuMsPerText;
    // The peer runs its inference on the main thread: only ours splits the request path from the model.
    row(`${kind}: CPU per text at saturation, main + helper threads (the request path), ms`, cpu(ok)?.outsideInference, undefined, (v) => num(v, 2), false);
    row(`${kind}: CPU per text at saturation, all threads, ms`, sumCpu(cpu(ok)), sumCpu(cpu(pk)), (v) => num(v, 2), false);
  }
  row('start to healthy, ms', o?.startToHealthyMs, p?.startToHealthyMs, (v) => num(v), false);
  row('peak RSS (VmHWM), MB', o?.peakRssMb, p?.peakRssMb, (v) => num(v), false);
  row('cgroup peak memory (RSS + page cache), MB', o?.cgroupPeakMemoryMb, p?.cgroupPeakMemoryMb, (v) => num(v), false);
  const throttled = (s: typeof o) => (s?.cpuThrottling && s.cpuThrottling.periods > 0 ? (100 * s.cpuThrottling.throttledPeriods) / s.cpuThrottling.periods : undefined);
  row('CFS periods throttled, %', throttled(o), throttled(p), (v) => num(v), false);
  const problems = [o, p].filter((s) => s?.error).map((s) => `⚠ ${s?.name}: ${s?.error}`);

  const sweep = [
    '| server | text | rate req/s | offered req/s | requests | p50 ms | p99 ms | p99 from the send, ms | server cores | result |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const server of [o, p]) {
    for (const kind of ['short', 'medium'] as const) {
      const points = [...(server?.kinds[kind]?.sweep.points ?? [])].sort((a, b) => a.ratePerS - b.ratePerS);
      for (const point of points) {
        const x = point.result;
        sweep.push(
          `| ${server?.name} | ${kind} | ${num(point.ratePerS, 1)} | ${num(x.offeredRatePerS, 1)}${flag(x)} | ${x.requests} | ${ms(x.p50Ms)} | ${ms(x.p99Ms)} | ${ms(x.serviceP99Ms)} | ` +
            `${x.cpu.server.toFixed(2)} | ${point.pass ? 'pass' : 'over'} |`,
        );
      }
    }
  }
  return [head, lines.join('\n'), ...problems, desiredCountRule(t), sweep.join('\n')].filter(Boolean).join('\n\n');
}

/** The rule for `embedding:desiredCount` this run gives, with a few worked values. */
export function desiredCountRule(t: TaskShapeResult): string {
  const sustainable = { short: sustainableOf(t, 'ours', 'short'), medium: sustainableOf(t, 'ours', 'medium') };
  if (sustainable.short === undefined && sustainable.medium === undefined) return '';
  const keep = (1 - HEADROOM).toFixed(2);
  const examples = [25, 50, 100, 200, 400].map((peak) => `${peak} → ${tasksNeeded({ short: peak }, sustainable) ?? '?'} / ${tasksNeeded({ medium: peak }, sustainable) ?? '?'}`);
  return (
    `**Rule for \`embedding:desiredCount\`** (one ${formatTaskShape(t.shape)} task sustains ${num(sustainable.short, 1)} short or ${num(sustainable.medium, 1)} medium texts/s at p99 ≤ ${t.options.p99LimitMs} ms): ` +
    `tasks = max(1, ⌈(peak short texts/s ÷ ${num(sustainable.short, 1)} + peak medium texts/s ÷ ${num(sustainable.medium, 1)}) ÷ ${keep}⌉), ` +
    `i.e. each task planned at ${keep} of its measured rate (${HEADROOM * 100} % headroom for the collector sidecar's share of the same vCPU, which the sink does not model, ` +
    `a Fargate CPU that differs from this one, and run-to-run noise). Peak texts/s → tasks (all short / all medium): ${examples.join(', ')}.`
  );
}

/** Where the CPU went in each measured run: the server's process vs the load generator (cores). */
export function cpuTable(r: Results): string {
  const names = Object.keys(r.servers) as Array<keyof Results['servers']>;
  if (names.length === 0) return '';
  const lines = [`| CPU, cores: server / load generator | ${names.join(' | ')} |`, `| --- | ${names.map(() => '---:').join(' | ')} |`];
  for (const s of SCENARIOS) {
    const cells = names.map((n) => {
      const run = r.servers[n]?.scenarios[s.id];
      return run ? `${run.cpu.server.toFixed(2)} / ${run.cpu.loadGenerator.toFixed(2)}` : '–';
    });
    lines.push(`| ${scenarioLabel(s)} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

export function checksList(checks: readonly TargetCheck[]): string {
  return checks.map((c) => `- ${c.pass === undefined ? 'n/a ' : c.pass ? 'PASS' : '**MISS**'} ${c.target}: ${c.measured} (target ${c.goal})`).join('\n');
}

/** The raw limit at every batch size, fp32 and int8 side by side. */
export function rawTable(r: Results): string {
  if (!r.raw) return '';
  const int8Head = r.rawInt8 ? ' int8 short texts/s | int8 medium texts/s |' : '';
  const lines = [
    `| raw: batch size | short texts/s | short ms/batch | medium texts/s | medium ms/batch |${int8Head}`,
    `| ---: | ---: | ---: | ---: | ---: |${r.rawInt8 ? ' ---: | ---: |' : ''}`,
  ];
  const find = (raw: RawResult | undefined, kind: string, size: number) => raw?.points.find((p) => p.kind === kind && p.batchSize === size);
  for (const size of [...new Set(r.raw.points.map((p) => p.batchSize))]) {
    const s = find(r.raw, 'short', size);
    const m = find(r.raw, 'medium', size);
    const int8 = r.rawInt8 ? ` ${num(find(r.rawInt8, 'short', size)?.textsPerS)} | ${num(find(r.rawInt8, 'medium', size)?.textsPerS)} |` : '';
    lines.push(`| ${size} | ${num(s?.textsPerS)} | ${ms(s?.p50Ms)} | ${num(m?.textsPerS)} | ${ms(m?.p50Ms)} |${int8}`);
  }
  return lines.join('\n');
}

/** The measured run during which other processes used the most CPU. */
function busiest(r: Results): string {
  let top = { where: 'none', cores: 0 };
  const consider = (where: string, run: ScenarioResult | { cpu: { other: number } }) => {
    if (run.cpu.other > top.cores) top = { where, cores: run.cpu.other };
  };
  for (const server of Object.values(r.servers)) for (const [id, run] of Object.entries(server.scenarios)) consider(`${server.name} ${id}`, run);
  if (r.worst) consider('worst case', r.worst.load);
  for (const server of Object.values(r.taskShape?.servers ?? {})) {
    for (const [kind, k] of Object.entries(server.kinds)) {
      consider(`task ${server.name} ${kind} saturation`, k.saturation);
      for (const point of k.sweep.points) consider(`task ${server.name} ${kind} ${point.ratePerS} req/s`, point.result);
    }
  }
  return `${top.where}, ${top.cores.toFixed(2)} cores`;
}

/** The whole report as markdown: what was run, the tables and the target checks. */
export function renderMarkdown(r: BenchResults): string {
  const m = r.machine;
  const parts = Object.entries(r.partsWallS).map(([part, s]) => `${part} ${s.toFixed(0)} s`).join(', ');
  const sections = [
    `Command: \`${r.command}\` — ${r.startedAt.slice(0, 19).replace('T', ' ')} UTC, ${m.nproc} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}; ` +
      `load average at start ${m.loadAverageAtStart.join(' ')}. Full-size synthetic all-MiniLM-L6-v2 (fp32 unless stated). ` +
      `*ours* runs in the production configuration: the task definition's environment for a ${r.machineTaskCpu}-unit task (this machine's CPUs), ` +
      `tracing to an OTLP sink on loopback, LOG_LEVEL=info, logs to a file; onnxruntime intra-op threads ${r.intraOpThreads} for every server and the raw limit; ` +
      `${r.options.durationS} s per scenario after ${r.options.warmupS} s of warm-up; autocannon on 127.0.0.1; every text distinct. ` +
      `Total wall time ${r.wallS.toFixed(0)} s (${parts}).${r.options.quick ? ' **--quick run: numbers are not meaningful.**' : ''}`,
    scenarioTable(r),
    telemetryCostTable(r),
    telemetryTable(r),
    summaryTable(r),
    taskShapeSection(r),
    mixedSection(r),
    checksList(r.checks),
    rawTable(r),
    cpuTable(r),
    `⚠ = the run had errors, timeouts or non-2xx responses (telemetry table: the server logged errors other than for callers that had gone). † = other processes used ≥ ${BUSY_CORES} cores during that measured run (machine not idle; ` +
      `busiest run: ${busiest(r)}). Method and column meanings: [benchmark.md](benchmark.md).`,
  ];
  return `${sections.filter((part) => part !== '').join('\n\n')}\n`;
}
