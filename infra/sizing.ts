/**
 * Pure sizing rules: Fargate CPU/memory pairs, the embedding task's floor, log retention values
 * CloudWatch accepts, and the container stop timeout derived from the app's shutdown grace.
 * No Pulumi imports: tested without mocks.
 */
import { SHUTDOWN_SLACK_MS } from '../app/defaults';

/** The embedding task never runs below this (one Node process, model + ONNX runtime in memory). */
export const EMBEDDING_MIN_CPU = 512;
export const EMBEDDING_MIN_MEMORY = 1024;

/** Fargate's Linux task sizes: cpu units → allowed memory (MiB). */
const FARGATE_MEMORY: ReadonlyMap<number, readonly number[]> = new Map([
  [256, [512, 1024, 2048]],
  [512, range(1024, 4096, 1024)],
  [1024, range(2048, 8192, 1024)],
  [2048, range(4096, 16384, 1024)],
  [4096, range(8192, 30720, 1024)],
  [8192, range(16384, 61440, 4096)],
  [16384, range(32768, 122880, 8192)],
]);

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

/** Problems with a Fargate cpu/memory pair (empty when valid). */
export function fargateSizeProblems(cpu: number, memory: number): string[] {
  const allowed = FARGATE_MEMORY.get(cpu);
  if (allowed === undefined) {
    return [`cpu ${cpu} is not a Fargate size (one of ${[...FARGATE_MEMORY.keys()].join(', ')})`];
  }
  if (!allowed.includes(memory)) {
    return [`memory ${memory} is not valid with cpu ${cpu} on Fargate (${allowed[0]}..${allowed[allowed.length - 1]})`];
  }
  return [];
}

/** Problems with the embedding task's size: a valid Fargate pair and never below 512/1024. */
export function embeddingSizeProblems(cpu: number, memory: number): string[] {
  const problems: string[] = [];
  if (cpu < EMBEDDING_MIN_CPU) problems.push(`cpu ${cpu} is below the embedding service's minimum ${EMBEDDING_MIN_CPU}`);
  if (memory < EMBEDDING_MIN_MEMORY) {
    problems.push(`memory ${memory} is below the embedding service's minimum ${EMBEDDING_MIN_MEMORY}`);
  }
  return problems.length > 0 ? problems : fargateSizeProblems(cpu, memory);
}

/** Values CloudWatch Logs accepts for retentionInDays. */
export const LOG_RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** Seconds of slack between the app's own drain deadline and ECS's SIGKILL: the service's own constant. */
export const STOP_TIMEOUT_SLACK_SECONDS = SHUTDOWN_SLACK_MS / 1000;
/** Fargate's maximum container stopTimeout. */
export const FARGATE_MAX_STOP_TIMEOUT_SECONDS = 120;

/**
 * ECS stopTimeout for the app container: the app drains in-flight requests for `shutdownGraceMs`
 * after SIGTERM, so ECS must wait at least that long (plus slack) before SIGKILL.
 */
export function stopTimeoutSeconds(shutdownGraceMs: number): number {
  return Math.ceil(shutdownGraceMs / 1000) + STOP_TIMEOUT_SLACK_SECONDS;
}
