import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTaskCgroup, removeStaleTaskCgroups, type TaskLimits } from './cgroup';
import { CpuMeter, waitUntilIdle } from './cpu-usage';
import { runOpenLoop } from './open-loop';
import { appMemoryMiB, formatTaskShape, type TaskShape } from './production';
import { PYTHON, runPythonCallers } from './python-caller';
import { log, streamsFrom } from './scenario-run';
import type { StartedServer } from './server-process';
import { runServer, startAndMemory, type ServerContext } from './servers';
import type { TextKind, TextStream } from './texts';
import type { BulkRun, MixedCase, MixedResult } from './types';

/**
 * `--only mixed`: the callers' real traffic in the task shape. A bulk re-index through the real
 * Python client (bench/python-caller.ts: one `encode(texts)` per caller, as Django's rag_service
 * does it, the client splitting it into requests itself) while an open loop of single short
 * queries arrives at 4/s (semantic_search and the chat service: one query per person waiting).
 * Four cases on one server: one bulk caller alone, then with the queries; two concurrent bulk
 * callers (Celery's --concurrency=2) alone, then with the queries. Each case re-indexes the same
 * number of distinct texts; the queries run for most of the time the bulk took alone, so every one
 * of them meets bulk work.
 */

export interface MixedOptions {
  readonly shape: TaskShape;
  /** Texts each case re-indexes (split evenly between the callers). */
  readonly bulkTexts: number;
  readonly bulkKind: TextKind;
  readonly queryRatePerS: number;
}

/** Queries arrive during this share of the time the bulk took alone, so none of them arrives after it is over. */
export const QUERY_SHARE = 0.85;
/** Text ranges of their own (the other parts use 0-11 M). */
const TEXT_OFFSET = 12_000_000;

/** `callers` bulk callers at once, each re-indexing its share of `texts`. */
async function runBulk(port: number, texts: readonly string[], callers: number, workDir: string): Promise<BulkRun> {
  const textsFile = path.join(workDir, `texts-${Date.now()}.json`);
  fs.writeFileSync(textsFile, JSON.stringify(texts));
  const started = performance.now();
  const outcomes = await runPythonCallers(textsFile, callers, `http://127.0.0.1:${port}`).finally(() => fs.rmSync(textsFile, { force: true }));
  const seconds = (performance.now() - started) / 1000;
  const embedded = outcomes.reduce((sum, o) => sum + o.vectors, 0);
  return {
    callers,
    texts: embedded,
    seconds,
    textsPerS: embedded / seconds,
    callerSeconds: outcomes.map((o) => o.seconds),
    localFallbackTexts: outcomes.reduce((sum, o) => sum + o.fallbackTexts, 0),
    clientWarnings: outcomes.flatMap((o) => o.warnings),
  };
}

async function runCase(server: StartedServer, label: string, callers: number, bulkTexts: readonly string[], queries: TextStream | undefined, queryWindowS: number, options: MixedOptions, workDir: string): Promise<MixedCase> {
  await waitUntilIdle(server.pid);
  const meter = new CpuMeter(server.pid);
  const queryRun = queries
    ? runOpenLoop({ port: server.port, ratePerS: options.queryRatePerS, durationS: queryWindowS, settleS: 0, textsPerRequest: 1, texts: queries, arrivals: 'poisson', seed: callers * 7 + 1 })
    : undefined;
  const [bulk, queryResult] = await Promise.all([runBulk(server.port, bulkTexts, callers, workDir), queryRun]);
  const result: MixedCase = { label, bulk, ...(queryResult ? { queries: queryResult } : {}), cpu: meter.read() };
  log(`  ${label.padEnd(30)} ${describeCase(result)}`);
  return result;
}

export const describeCase = (c: MixedCase): string =>
  `bulk ${c.bulk.texts} texts in ${c.bulk.seconds.toFixed(1)} s (${c.bulk.textsPerS.toFixed(1)} texts/s, local fallback ${c.bulk.localFallbackTexts})` +
  (c.queries
    ? `; queries ${c.queries.requests}: p50 ${c.queries.p50Ms.toFixed(1)} ms, p99 ${c.queries.p99Ms.toFixed(1)} ms, refused ${c.queries.non2xx}, failed ${c.queries.errors + c.queries.timeouts}`
    : '');

export async function benchMixed(context: ServerContext, options: MixedOptions): Promise<MixedResult> {
  const { shape } = options;
  const memory = appMemoryMiB(context.stack, shape);
  const limits: TaskLimits = { cpuCores: shape.cpuUnits / 1024, memoryBytes: memory.appMiB * 2 ** 20 };
  const base = { shape, cpuCores: limits.cpuCores, memoryLimitMiB: memory.appMiB, bulkKind: options.bulkKind, bulkTexts: options.bulkTexts, queryRatePerS: options.queryRatePerS };
  log(`\n## mixed traffic, task shape ${formatTaskShape(shape)}: ${options.bulkTexts} ${options.bulkKind} texts re-indexed through clients/python/embedding_client.py (${PYTHON}) by 1, then 2 callers, alone and with single short queries at ${options.queryRatePerS}/s`);
  if (!fs.existsSync(PYTHON)) return { ...base, skipped: `${PYTHON} not found`, cases: [] };
  const stale = removeStaleTaskCgroups();
  if (stale.length > 0) log(`removed cgroups left by an earlier run: ${stale.join(', ')}`);
  const { group, problems } = createTaskCgroup('mixed', limits);
  if (!group?.dirs.cpu) {
    group?.remove();
    return { ...base, skipped: `no CPU limit can be set here (${problems.join('; ') || 'unknown reason'})`, cases: [] };
  }
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-mixed-'));
  try {
    const cases: MixedCase[] = [];
    const run = await runServer(context, { label: `mixed-${formatTaskShape(shape).replace('/', '-')}`, plan: { kind: 'ours', config: 'production', taskCpu: shape.cpuUnits }, launchPrefix: group.launchPrefix() }, async (server, tally) => {
      const streams = streamsFrom(TEXT_OFFSET);
      const bulk = streams(options.bulkKind);
      const queries = streams('short');
      // Warm-up: the session's first runs, and the first measured cost of a token.
      await runBulk(server.port, bulk.take(20), 1, workDir);
      for (const callers of [1, 2]) {
        const alone = await runCase(server, `${callers} bulk caller(s), no queries`, callers, bulk.take(options.bulkTexts), undefined, 0, options, workDir);
        cases.push(alone);
        cases.push(await runCase(server, `${callers} bulk caller(s) + queries`, callers, bulk.take(options.bulkTexts), queries, alone.bulk.seconds * QUERY_SHARE, options, workDir));
      }
      tally.add(cases.reduce((sum, c) => sum + (c.queries?.answeredTotal ?? 0), 0));
    });
    return {
      ...base,
      ...startAndMemory(run),
      ...(group.cpuThrottling() ? { cpuThrottling: group.cpuThrottling() } : {}),
      limitedBy: group.describe(),
      cases,
      ...(run.stop.diedEarly ? { error: run.stop.diedEarly } : {}),
    };
  } catch (error) {
    log(`  ⚠ mixed: ${(error as Error).message}`);
    return { ...base, error: (error as Error).message.split('\n')[0] ?? 'failed', cases: [] };
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
    const left = group.remove();
    if (left.length > 0) log(`  ⚠ could not remove ${left.join(', ')}`);
  }
}
