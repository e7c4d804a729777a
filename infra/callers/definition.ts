/**
 * Pure edits of a live ECS task definition, as DescribeTaskDefinition returns it: the
 * RegisterTaskDefinition input that reproduces it (every field ECS takes back, none of the read-only
 * ones), one environment variable set or removed in named containers, and the checks that nothing
 * else moved. Types only from the SDK: no call is made here, and the provider that uses these
 * functions is serialized by Pulumi with them.
 */
import type { ContainerDefinition, RegisterTaskDefinitionCommandInput, Tag, TaskDefinition } from '@aws-sdk/client-ecs';

/** DescribeTaskDefinition fields that RegisterTaskDefinition accepts, copied as they are. */
export const REGISTER_FIELDS = [
  'family',
  'taskRoleArn',
  'executionRoleArn',
  'networkMode',
  'containerDefinitions',
  'volumes',
  'placementConstraints',
  'requiresCompatibilities',
  'cpu',
  'memory',
  'pidMode',
  'ipcMode',
  'proxyConfiguration',
  'inferenceAccelerators',
  'ephemeralStorage',
  'runtimePlatform',
  'enableFaultInjection',
  'trustedExecutionConfiguration',
] as const satisfies readonly (keyof RegisterTaskDefinitionCommandInput & keyof TaskDefinition)[];

/** DescribeTaskDefinition fields ECS sets itself: RegisterTaskDefinition has no such parameter. */
export const READ_ONLY_FIELDS = [
  'taskDefinitionArn',
  'revision',
  'status',
  'requiresAttributes',
  'compatibilities',
  'registeredAt',
  'registeredBy',
  'deregisteredAt',
  'deleteRequestedAt',
] as const satisfies readonly (keyof TaskDefinition)[];

type Assert<T extends true> = T;
type Unclassified = Exclude<keyof TaskDefinition, (typeof REGISTER_FIELDS)[number] | (typeof READ_ONLY_FIELDS)[number]>;
type Uncopied = Exclude<keyof RegisterTaskDefinitionCommandInput, (typeof REGISTER_FIELDS)[number] | 'tags'>;
/**
 * Fails to compile when an SDK upgrade brings a task-definition field this module does not place:
 * a field silently left out of the copy would be removed from the client's next revision.
 */
export type EveryFieldPlaced = Assert<[Unclassified, Uncopied] extends [never, never] ? true : false>;

/** `family:revision` of a task definition ARN, for messages. */
export function revisionName(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

/**
 * The RegisterTaskDefinition input that registers `td` again: every field ECS accepts, deep-copied;
 * its tags except the `aws:` ones, which only AWS may set (RegisterTaskDefinition refuses them).
 */
export function registrationOf(td: TaskDefinition, tags: readonly Tag[] = []): RegisterTaskDefinitionCommandInput {
  const input: Record<string, unknown> = {};
  for (const field of REGISTER_FIELDS) {
    if (td[field] !== undefined) input[field] = structuredClone(td[field]);
  }
  const ownTags = tags.filter((t) => !(t.key ?? '').startsWith('aws:')).map((t) => ({ key: t.key, value: t.value }));
  if (ownTags.length > 0) input.tags = ownTags.sort((a, b) => String(a.key).localeCompare(String(b.key)));
  return input as unknown as RegisterTaskDefinitionCommandInput;
}

/** The variable's value in each named container (`null`: not set there). */
export function variableValues(containers: readonly ContainerDefinition[], names: readonly string[], variable: string): Record<string, string | null> {
  return Object.fromEntries(
    names.map((name) => {
      const container = containers.find((c) => c.name === name);
      return [name, container?.environment?.find((e) => e.name === variable)?.value ?? null];
    }),
  );
}

/** Named containers where the variable does not hold `value`. */
export function containersWithout(containers: readonly ContainerDefinition[], names: readonly string[], variable: string, value: string): string[] {
  const values = variableValues(containers, names, variable);
  return names.filter((name) => values[name] !== value);
}

/** Why the variable cannot be set in these containers of `td` (empty: it can). */
export function definitionProblems(td: TaskDefinition, names: readonly string[], variable: string): string[] {
  const containers = td.containerDefinitions ?? [];
  const where = revisionName(td.taskDefinitionArn ?? `${td.family}:${td.revision}`);
  const problems: string[] = [];
  for (const name of names) {
    const container = containers.find((c) => c.name === name);
    if (container === undefined) {
      problems.push(`container ${name} is not in ${where} (it has ${containers.map((c) => c.name).join(', ') || 'none'})`);
    } else if ((container.secrets ?? []).some((s) => s.name === variable)) {
      problems.push(`container ${name} of ${where} takes ${variable} from a secret: remove that secret before the stack sets the variable`);
    }
  }
  return problems;
}

export interface VariableChange {
  readonly variable: string;
  readonly value: string;
  /** Containers that get `variable=value`. */
  readonly set: readonly string[];
  /** Containers that lose the variable, where it holds one of `ours`. */
  readonly unset: readonly string[];
  /** Values the stack itself put there (a value someone else set is left alone). */
  readonly ours: readonly string[];
}

/**
 * `input` with `variable=value` in the containers `set` (in place of an existing entry, else
 * appended) and without the variable in the containers `unset` where it holds one of `ours`.
 * Everything else is untouched.
 */
export function withVariable(input: RegisterTaskDefinitionCommandInput, change: VariableChange): RegisterTaskDefinitionCommandInput {
  const next = structuredClone(input);
  for (const container of next.containerDefinitions ?? []) {
    const name = container.name ?? '';
    const environment = container.environment ?? [];
    if (change.set.includes(name)) {
      const at = environment.findIndex((e) => e.name === change.variable);
      container.environment =
        at < 0
          ? [...environment, { name: change.variable, value: change.value }]
          : environment
              .map((e, i) => (i === at ? { name: change.variable, value: change.value } : e))
              .filter((e, i) => i === at || e.name !== change.variable);
    } else if (change.unset.includes(name)) {
      const kept = environment.filter((e) => e.name !== change.variable || !change.ours.includes(e.value ?? ''));
      if (kept.length < environment.length) container.environment = kept;
    }
  }
  return next;
}

/** A JSON object or array (a Date, as the SDK parses timestamps, is a value). */
function isNode(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !(v instanceof Date);
}

/** `path.key`, or `path[key]` inside an array. */
function childPath(path: string, key: string, inArray: boolean): string {
  if (inArray) return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

/** Paths where `a` and `b` differ (values compared as JSON; `undefined` and absent are the same). */
export function differingPaths(a: unknown, b: unknown, path = ''): string[] {
  if (isNode(a) && isNode(b) && Array.isArray(a) === Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.flatMap((key) => differingPaths(a[key], b[key], childPath(path, key, Array.isArray(a))));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [path || '(root)'];
}

/**
 * Fields present in the raw JSON answer that the parsed one lacks: members the SDK does not know
 * (it drops them silently), which a copy through the SDK would remove from the client's next revision.
 */
export function fieldsLost(raw: unknown, parsed: unknown, path = ''): string[] {
  if (!isNode(raw) || !isNode(parsed)) return [];
  return Object.entries(raw).flatMap(([key, value]) => {
    if (value === null || value === undefined) return [];
    const at = childPath(path, key, Array.isArray(raw));
    return key in parsed ? fieldsLost(value, parsed[key], at) : [at];
  });
}
