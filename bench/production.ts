import fs from 'node:fs';
import path from 'node:path';
import { EMBEDDING_PORT, EMBEDDING_SERVICE_NAME, LOG_GROUP_NAME, parseStackConfig, type StackConfig } from '../infra/config';
import { APP_CONTAINER, COLLECTOR_CONTAINER, embeddingContainers, type ContainerDefinition } from '../infra/containers';
import { fargateSizeProblems, stopTimeoutSeconds } from '../infra/sizing';
import { REPO_ROOT } from '../scripts/repo-paths';

/**
 * The service as production ships it, taken from the Pulumi program itself rather than restated: the
 * production stack file (Pulumi.prod.yaml) parsed and defaulted by `parseStackConfig`, and the task
 * definition's containers built by `embeddingContainers`, as `pulumi up` builds them.
 */

// js-yaml ships without types (the Pulumi tests read stack files with it the same way).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml: { load(text: string): unknown } = require('js-yaml');

export const PRODUCTION_STACK_FILE = path.join(REPO_ROOT, 'Pulumi.prod.yaml');

/** The production stack's configuration: `embedding:*` and `aws:region` from the stack file. */
export function productionStack(file = PRODUCTION_STACK_FILE): StackConfig {
  const doc = yaml.load(fs.readFileSync(file, 'utf8')) as { config?: Record<string, unknown> } | undefined;
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc?.config ?? {})) {
    if (key === 'aws:region') raw.region = value;
    else if (key.startsWith('embedding:')) raw[key.slice('embedding:'.length)] = value;
  }
  return parseStackConfig(raw);
}

/** A Fargate task size: CPU units (1024 = 1 vCPU) and memory in MiB. */
export interface TaskShape {
  readonly cpuUnits: number;
  readonly memoryMiB: number;
}

export const formatTaskShape = (shape: TaskShape): string => `${shape.cpuUnits}/${shape.memoryMiB}`;

/** "512/1024" → a valid Fargate size, or an error saying what is wrong. */
export function parseTaskShape(text: string): TaskShape {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!match) throw new Error(`--task-shape must look like <cpu units>/<memory MiB>, e.g. 512/1024 (got "${text}")`);
  const shape = { cpuUnits: Number(match[1]), memoryMiB: Number(match[2]) };
  const problems = fargateSizeProblems(shape.cpuUnits, shape.memoryMiB);
  if (problems.length > 0) throw new Error(`--task-shape ${text}: ${problems.join('; ')}`);
  return shape;
}

/** The task definition's two containers for a task of `taskCpu` units, as the Pulumi program writes them. */
export function taskContainers(stack: StackConfig, taskCpu: number): { app: ContainerDefinition; collector: ContainerDefinition } {
  const containers = embeddingContainers({
    image: 'embedding-service:bench',
    collectorImage: stack.adotImage,
    collectorConfig: '(not used by the benchmark)',
    region: stack.region,
    logGroupName: LOG_GROUP_NAME,
    port: EMBEDDING_PORT,
    logLevel: stack.logLevel,
    serviceName: EMBEDDING_SERVICE_NAME,
    shutdownGraceMs: stack.shutdownGraceMs,
    stopTimeout: stopTimeoutSeconds(stack.shutdownGraceMs),
    taskCpu,
  });
  const app = containers.find((c) => c.name === APP_CONTAINER);
  const collector = containers.find((c) => c.name === COLLECTOR_CONTAINER);
  if (!app || !collector) throw new Error('infra/containers.ts no longer builds the app and collector containers the benchmark expects');
  return { app, collector };
}

/** The environment ECS gives the app container of a task with `taskCpu` units. */
export function appContainerEnvironment(stack: StackConfig, taskCpu: number): Record<string, string> {
  return Object.fromEntries((taskContainers(stack, taskCpu).app.environment ?? []).map(({ name, value }) => [name, value]));
}

/**
 * The memory the app container can count on in a task of this shape: the task's memory less the
 * collector sidecar's hard limit (`memory`), not its soft reservation (`memoryReservation`): the
 * collector may grow to its hard limit at any time, and the app container has no limit of its own,
 * so this is what is left for the app in the worst case.
 */
export function appMemoryMiB(stack: StackConfig, shape: TaskShape): { appMiB: number; collectorMiB: number; collectorReservationMiB: number | undefined } {
  const { collector } = taskContainers(stack, shape.cpuUnits);
  const collectorMiB = collector.memory ?? collector.memoryReservation ?? 0;
  return { appMiB: shape.memoryMiB - collectorMiB, collectorMiB, collectorReservationMiB: collector.memoryReservation };
}
