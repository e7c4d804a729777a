import type { RawResult } from './raw';
import { SCENARIOS, WORST_CASE, scenarioId, scenarioLabel } from './scenarios';
import { BUSY_CORES, type BenchResults, type ScenarioResult, type TargetCheck } from './types';

const num = (value: number | undefined, digits = 0): string =>
  value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
const ms = (value: number | undefined): string => (value === undefined || !Number.isFinite(value) ? '–' : value < 10 ? value.toFixed(2) : value.toFixed(1));
const ratio = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined || !(b > 0) ? undefined : a / b;
const times = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(2)}×` : '–');
const flag = (run: ScenarioResult | undefined): string =>
  (run?.flagged ? ' ⚠' : '') + (run !== undefined && run.cpu.other >= BUSY_CORES ? ' †' : '');

type Results = Omit<BenchResults, 'checks' | 'wallS'> & { wallS?: number };

/** Every target of the issue: measured value, goal, PASS/MISS (n/a when its part was not run). */
export function checkTargets(r: Results): TargetCheck[] {
  const ours = r.servers.ours?.scenarios;
  const peer = r.servers.peer?.scenarios;
  const int8 = r.servers.int8?.scenarios;
  const checks: TargetCheck[] = [];
  const add = (target: string, value: number | undefined, goal: string, pass: (v: number) => boolean, show = times) =>
    checks.push({ target, measured: value === undefined ? 'n/a' : show(value), goal, pass: value === undefined ? undefined : pass(value) });

  const c64 = scenarioId('short', 1, 64);
  add('short, 1 text, c=64: ours / peer texts/s', ratio(ours?.[c64]?.textsPerS, peer?.[c64]?.textsPerS), '≥ 2×', (v) => v >= 2);
  add('short, 1 text, c=64: ours / raw limit texts/s', ratio(ours?.[c64]?.textsPerS, r.raw?.best.short?.textsPerS), '≥ 0.9×', (v) => v >= 0.9);
  for (const kind of ['short', 'medium'] as const) {
    const id = scenarioId(kind, 1, 64);
    add(`${kind}, 1 text, c=64: ours p99 / peer p99`, ratio(ours?.[id]?.p99Ms, peer?.[id]?.p99Ms), '≤ 0.5×', (v) => v <= 0.5);
  }
  for (const kind of ['short', 'medium'] as const) {
    const id = scenarioId(kind, 1, 1);
    add(`${kind}, c=1: ours p50 / raw single-text latency`, ratio(ours?.[id]?.p50Ms, r.raw?.best[kind]?.singleTextP50Ms), '≤ 1.2×', (v) => v <= 1.2);
  }
  for (const kind of ['short', 'medium'] as const) {
    const id = scenarioId(kind, 1, 64);
    add(`${kind}, 1 text, c=64: int8 / fp32 texts/s`, ratio(int8?.[id]?.textsPerS, ours?.[id]?.textsPerS), '≥ 1.8×', (v) => v >= 1.8);
  }
  const mb = (v: number) => `${v.toFixed(0)} MB`;
  add('ours (fp32) peak RSS over the whole benchmark', r.servers.ours?.peakRssMb, '≤ 350 MB', (v) => v <= 350, mb);
  const starts = [r.servers.ours?.startToHealthyMs, r.servers.int8?.startToHealthyMs, r.worst?.startToHealthyMs].filter((v): v is number => v !== undefined);
  add('ours start to healthy (slowest of our starts)', starts.length > 0 ? Math.max(...starts) : undefined, '≤ 1500 ms', (v) => v <= 1500, (v) => `${v.toFixed(0)} ms`);
  add(`worst case (${r.worst?.scenario ?? 'long 100×c4'}) peak RSS, all 200`, r.worst?.allOk === false ? Infinity : r.worst?.peakRssMb, '≤ 700 MB', (v) => v <= 700, (v) => (Number.isFinite(v) ? mb(v) : 'failed requests'));
  if (r.wallS !== undefined) add('whole `npm run bench` wall time', r.wallS, '< 600 s', (v) => v < 600, (v) => `${v.toFixed(0)} s`);
  return checks;
}

/** The main table: one row per scenario, ours | peer | int8 | ratios. */
export function scenarioTable(r: Results): string {
  const ours = r.servers.ours?.scenarios ?? {};
  const peer = r.servers.peer?.scenarios ?? {};
  const int8 = r.servers.int8?.scenarios ?? {};
  const lines = [
    '| scenario | ours texts/s | ours p50 ms | ours p99 ms | peer texts/s | peer p50 ms | peer p99 ms | int8 texts/s | ours/peer texts/s | p99 ours/peer | ours/raw |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const s of SCENARIOS) {
    const o = ours[s.id];
    const p = peer[s.id];
    const q = int8[s.id];
    const raw = r.raw?.best[s.kind]?.textsPerS;
    lines.push(
      `| ${scenarioLabel(s)} | ${num(o?.textsPerS)}${flag(o)} | ${ms(o?.p50Ms)} | ${ms(o?.p99Ms)} | ` +
        `${num(p?.textsPerS)}${flag(p)} | ${ms(p?.p50Ms)} | ${ms(p?.p99Ms)} | ${num(q?.textsPerS)}${flag(q)} | ` +
        `${times(ratio(o?.textsPerS, p?.textsPerS) ?? NaN)} | ${times(ratio(o?.p99Ms, p?.p99Ms) ?? NaN)} | ${times(ratio(o?.textsPerS, raw) ?? NaN)} |`,
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

/** Where the CPU went in each measured run: the server's process vs the load generator (cores). */
export function cpuTable(r: Results): string {
  const names = Object.keys(r.servers) as Array<keyof Results['servers']>;
  if (names.length === 0) return '';
  const lines = [
    `| CPU, cores: server / load generator | ${names.join(' | ')} |`,
    `| --- | ${names.map(() => '---:').join(' | ')} |`,
  ];
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
  return checks
    .map((c) => `- ${c.pass === undefined ? 'n/a ' : c.pass ? 'PASS' : '**MISS**'} ${c.target}: ${c.measured} (target ${c.goal})`)
    .join('\n');
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
  for (const server of Object.values(r.servers)) {
    for (const [id, run] of Object.entries(server.scenarios)) {
      if (run.cpu.other > top.cores) top = { where: `${server.name} ${id}`, cores: run.cpu.other };
    }
  }
  if (r.worst && r.worst.load.cpu.other > top.cores) top = { where: 'worst case', cores: r.worst.load.cpu.other };
  return `${top.where}, ${top.cores.toFixed(2)} cores`;
}

/** The whole report as markdown: what was run, the tables and the target checks. */
export function renderMarkdown(r: BenchResults): string {
  const m = r.machine;
  const parts = [
    `Command: \`${r.command}\` — ${r.startedAt.slice(0, 19).replace('T', ' ')} UTC, ${m.nproc} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}; ` +
      `load average at start ${m.loadAverageAtStart.join(' ')}. Full-size synthetic all-MiniLM-L6-v2 (fp32 unless stated), ` +
      `onnxruntime intra-op threads ${r.intraOpThreads} for every server and the raw limit; ${r.options.durationS} s per scenario after ${r.options.warmupS} s of warm-up; ` +
      `autocannon on 127.0.0.1; every text distinct. Total wall time ${r.wallS.toFixed(0)} s.${r.options.quick ? ' **--quick run: numbers are not meaningful.**' : ''}`,
    scenarioTable(r),
    summaryTable(r),
    checksList(r.checks),
    rawTable(r),
    cpuTable(r),
    `⚠ = the run had errors, timeouts or non-2xx responses. † = other processes used ≥ ${BUSY_CORES} cores during that measured run (machine not idle; ` +
      `busiest run: ${busiest(r)}). Method and column meanings: [benchmark.md](benchmark.md).`,
  ];
  return `${parts.filter((part) => part !== '').join('\n\n')}\n`;
}
