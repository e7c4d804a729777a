import { checkTargets, desiredCountRule, mixedChecks, mixedSection, renderMarkdown, tasksNeeded } from '../../bench/report';
import type { MixedResult, OpenLoopPoint, ScenarioResult, TaskShapeResult, TaskShapeServerResult } from '../../bench/types';
import type { BenchResults } from '../../bench/types';

const cpu = { server: 0.5, loadGenerator: 0.05, other: 0 };
const closed = (textsPerS: number, p50Ms = 10, p99Ms = 20): ScenarioResult => ({
  connections: 16, textsPerRequest: 1, durationS: 6, requests: textsPerS * 6, requestsPerS: textsPerS, textsPerS, p50Ms, p99Ms, meanMs: p50Ms, maxMs: p99Ms,
  non2xx: 0, errors: 0, timeouts: 0, flagged: false, cpu,
});
const result = (rate: number, p99Ms: number): OpenLoopPoint => ({
  arrivals: 'poisson', targetRatePerS: rate, offeredRatePerS: rate, durationS: 5, textsPerRequest: 1, requests: rate * 5, ok: rate * 5, textsPerS: rate,
  p50Ms: p99Ms / 2, p90Ms: p99Ms, p99Ms, maxMs: p99Ms, serviceP99Ms: p99Ms, sendLagP99Ms: 1, non2xx: 0, errors: 0, timeouts: 0, maxInFlight: 3, answeredTotal: rate * 6, flagged: false, cpu,
});
const point = (rate: number, p99Ms: number) => ({ ratePerS: rate, pass: p99Ms <= 200, result: result(rate, p99Ms) });
const taskServer = (name: 'ours' | 'peer', short: number | undefined, medium: number | undefined, peakRssMb = 300): TaskShapeServerResult => ({
  name, description: name, startToHealthyMs: 2000, peakRssMb, maxSampledRssMb: peakRssMb, limitedBy: 'cpu 0.5 cores', kinds: {
    short: { saturation: closed(60), sweep: { points: [point(30, 50), point(60, 400)], sustainableRatePerS: short, lowestFailingRatePerS: 60, p99LimitMs: 200 }, sustainableTextsPerS: short },
    medium: { saturation: closed(12), sweep: { points: [point(5, 50)], sustainableRatePerS: medium, lowestFailingRatePerS: undefined, p99LimitMs: 200 }, sustainableTextsPerS: medium },
  },
});
const taskShape = (ours: TaskShapeServerResult, peer: TaskShapeServerResult): TaskShapeResult => ({
  shape: { cpuUnits: 512, memoryMiB: 1024 }, cpuCores: 0.5, memoryLimitMiB: 832, collectorMemoryMiB: 192, collectorReservationMiB: 64, intraOpThreads: 1,
  options: { saturationS: 6, saturationConnections: 16, warmupS: 2, pointS: 5, settleS: 1, arrivals: 'poisson', p99LimitMs: 200 },
  servers: { ours, peer },
});
const base = {
  startedAt: '2026-01-01T00:00:00.000Z', command: 'npm run bench', machine: { nproc: 2, cpuModel: 'test CPU', memoryGiB: 24, node: 'v20', loadAverageAtStart: [0, 0, 0] },
  options: { durationS: 10, warmupS: 2, worstS: 20, rawPointS: 1.5, quick: false, only: ['task'] }, modelDir: 'm', machineTaskCpu: 2048, intraOpThreads: 2, tokens: [], servers: {},
};
const check = (checks: ReturnType<typeof checkTargets>, start: string) => checks.find((c) => c.target.startsWith(start));

describe('the desiredCount rule', () => {
  it('adds each kind of text as a share of a task, keeps 30 % headroom, rounds up, never below 1', () => {
    expect(tasksNeeded({ short: 35 }, { short: 50 })).toBe(1); // 0.7 of a task at 0.7 → exactly 1
    expect(tasksNeeded({ short: 36 }, { short: 50 })).toBe(2);
    expect(tasksNeeded({ short: 50, medium: 10 }, { short: 50, medium: 10 })).toBe(3); // (1 + 1) / 0.7 = 2.86
    expect(tasksNeeded({}, { short: 50 })).toBe(1);
    expect(tasksNeeded({ medium: 5 }, { short: 50 })).toBeUndefined(); // no measured rate for medium
    expect(tasksNeeded({ short: 100 }, { short: 50 }, 0)).toBe(2);
  });

  it('is printed with the measured rates and worked examples', () => {
    const rule = desiredCountRule(taskShape(taskServer('ours', 50, 10), taskServer('peer', 20, 4)));
    expect(rule).toContain('peak short texts/s ÷ 50.0 + peak medium texts/s ÷ 10.0) ÷ 0.70');
    expect(rule).toContain('100 → 3 / 15');
  });
});

describe('target checks for the task shape', () => {
  it('ours / peer sustainable rate ≥ 2× per text kind, and ours peak RSS ≤ 600 MB', () => {
    const checks = checkTargets({ ...base, taskShape: taskShape(taskServer('ours', 50, 10, 450), taskServer('peer', 20, 6)) });
    expect(check(checks, 'task shape 512/1024, short')).toMatchObject({ measured: '2.50×', pass: true });
    expect(check(checks, 'task shape 512/1024, medium')).toMatchObject({ measured: '1.67×', pass: false });
    expect(check(checks, 'task shape 512/1024: ours peak RSS')).toMatchObject({ measured: '450 MB', pass: true });
  });

  it('a peer that sustains no rate loses; ours sustaining none fails', () => {
    const checks = checkTargets({ ...base, taskShape: taskShape(taskServer('ours', 50, undefined), taskServer('peer', undefined, undefined)) });
    expect(check(checks, 'task shape 512/1024, short')).toMatchObject({ pass: true, measured: expect.stringMatching(/peer passed no rate/) });
    expect(check(checks, 'task shape 512/1024, medium')).toMatchObject({ pass: false });
  });

  it('a server that died fails the memory check; a skipped task shape is n/a and says why', () => {
    const died = { ...taskServer('ours', 50, 10), error: 'exited (SIGKILL) before it was stopped' };
    expect(check(checkTargets({ ...base, taskShape: taskShape(died, taskServer('peer', 20, 4)) }), 'task shape 512/1024: ours peak RSS')).toMatchObject({ pass: false });
    const skipped: TaskShapeResult = { ...taskShape(taskServer('ours', 1, 1), taskServer('peer', 1, 1)), servers: {}, skipped: 'skipped: no CPU limit can be set here' };
    const results: BenchResults = { ...base, wallS: 1, partsWallS: { task: 1 }, taskShape: skipped, checks: [] };
    const checks = checkTargets(results);
    expect(checks.filter((c) => c.target.startsWith('task shape')).every((c) => c.pass === undefined)).toBe(true);
    expect(renderMarkdown({ ...results, checks })).toContain('**Not run**: skipped: no CPU limit can be set here');
  });

  it('the report shows the task shape table, the rule and every rate tried', () => {
    const results: BenchResults = { ...base, wallS: 100, partsWallS: { task: 99 }, taskShape: taskShape(taskServer('ours', 50, 10), taskServer('peer', 20, 4)), checks: [] };
    const markdown = renderMarkdown({ ...results, checks: checkTargets(results) });
    expect(markdown).toContain('| short: sustainable texts/s at p99 ≤ 200 ms (open loop) | 50.0 | 20.0 | 2.50× |');
    expect(markdown).toContain('Rule for `embedding:desiredCount`');
    expect(markdown).toMatch(/\| ours \| short \| 60\.0 \| 60\.0 \| 300 \| 200\.0 \| 400\.0 \| 400\.0 \| 0\.50 \| over \|/);
    expect(markdown).toContain('(task 99 s)');
  });
});

describe('the mixed traffic report', () => {
  const bulk = (callers: number, textsPerS: number, localFallbackTexts = 0) => ({
    callers, texts: 2000, seconds: 2000 / textsPerS, textsPerS, callerSeconds: [], localFallbackTexts, clientWarnings: [],
  });
  const queries = (p99Ms: number, refused = 0) => ({ ...result(4, p99Ms), requests: 120, ok: 120 - refused, non2xx: refused });
  const mixed = (overrides: { p99?: number; refused?: number; slowdown?: number; fallback?: number } = {}): MixedResult => ({
    shape: { cpuUnits: 512, memoryMiB: 1024 }, cpuCores: 0.5, memoryLimitMiB: 832, bulkKind: 'medium', bulkTexts: 2000, queryRatePerS: 4, peakRssMb: 296,
    cases: [
      { label: '1 bulk caller(s), no queries', bulk: bulk(1, 60), cpu },
      { label: '1 bulk caller(s) + queries', bulk: bulk(1, 60 * (overrides.slowdown ?? 0.95), overrides.fallback), queries: queries(overrides.p99 ?? 150, overrides.refused), cpu },
      { label: '2 bulk caller(s), no queries', bulk: bulk(2, 64), cpu },
      { label: '2 bulk caller(s) + queries', bulk: bulk(2, 58), queries: queries(170), cpu },
    ],
  });

  it('checks every target of the mixed traffic, for one and for two bulk callers', () => {
    const checks = mixedChecks(mixed());
    expect(checks).toHaveLength(8);
    expect(checks.every((c) => c.pass === true)).toBe(true);
    expect(check(checks, 'mixed traffic, task shape 512/1024, 1 bulk caller + queries at 4/s: query p99')?.measured).toBe('150.0 ms');
    expect(check(checks, 'mixed traffic, task shape 512/1024, 2 bulk callers + queries at 4/s: bulk texts/s')?.measured).toBe('0.91×');
  });

  it('fails a target on a slow query, a refused one, a slowed re-index or a local fallback', () => {
    const failing = (overrides: Parameters<typeof mixed>[0], start: string) => check(mixedChecks(mixed(overrides)), `mixed traffic, task shape 512/1024, 1 bulk caller + queries at 4/s: ${start}`)?.pass;
    expect(failing({ p99: 251 }, 'query p99')).toBe(false);
    expect(failing({ refused: 1 }, 'queries refused')).toBe(false);
    expect(failing({ slowdown: 0.8 }, 'bulk texts/s')).toBe(false);
    expect(failing({ fallback: 100 }, 'texts the client embedded locally')).toBe(false);
    expect(mixedChecks(undefined)).toEqual([]);
  });

  it('renders one row per case, and says why when nothing was measured', () => {
    const table = mixedSection({ mixed: mixed() });
    expect(table).toContain('| 1 bulk caller(s) + queries | 2000 | 35.1 | 57.0 | 0.95× | 0 | 120 | 75.0 | 150.0 | 0 | 0 | 0.50 |');
    expect(table.split('\n').filter((line) => /^\| \d bulk caller/.test(line))).toHaveLength(4);
    expect(mixedSection({ mixed: { ...mixed(), cases: [], skipped: '/usr/bin/python3 not found' } })).toMatch(/not measured \(\/usr\/bin\/python3 not found\)/);
    expect(renderMarkdown({ ...base, wallS: 1, partsWallS: {}, mixed: mixed(), checks: [] })).toContain('**Mixed traffic, task shape 512/1024**');
  });
});
