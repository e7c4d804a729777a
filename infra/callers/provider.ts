/**
 * One environment variable on a live ECS service that the stack does not own (a Pulumi dynamic
 * provider: no Pulumi resource changes one variable of someone else's task definition).
 *
 * Create and update read the service's current task definition, register a new revision of the same
 * family that is identical except for the variable in the named containers (checked by reading the
 * new revision back), and call UpdateService with nothing but that task definition; then wait for
 * the service to be steady on it. Before that, the service named in `after` (the embedding service)
 * must be steady. Delete does the reverse on the then-current definition: a new revision without the
 * variable. Nothing is ever deleted or deregistered: not a service, not a revision.
 *
 * Diff reads the live service: a client deploy that dropped the variable shows as an update in
 * `pulumi preview`, and `pulumi up` sets it again on top of their newest revision.
 */
import * as pulumi from '@pulumi/pulumi';
import type * as Ecs from '@aws-sdk/client-ecs';
import { containersWithout, definitionProblems, differingPaths, registrationOf, revisionName, withVariable } from './definition';
import { describeDefinition, ecsClient, findService, pointServiceAt, registerDefinition, requireService, waitSteady } from './ecs';

export interface ServiceVariableInputs {
  readonly region: string;
  /** A named profile for the SDK (the stack's `aws:profile`); undefined: the default credential chain. */
  readonly profile: string | undefined;
  /** Cluster ARN of the service. */
  readonly cluster: string;
  readonly service: string;
  /** Containers that get the variable. */
  readonly containers: string[];
  readonly variable: string;
  readonly value: string;
  /** A service that must be steady before the change (the embedding service). */
  readonly after?: { readonly cluster: string; readonly service: string };
  /** Longest wait for a steady state, seconds. */
  readonly maxWaitSeconds: number;
  /** First delay between two steady-state polls, seconds (doubles up to 30). */
  readonly pollSeconds: number;
}

export interface ServiceVariableState extends ServiceVariableInputs {
  /** The service's task definition as last seen: the revision carrying the variable after create/update. */
  readonly taskDefinitionArn: string;
  /** What the service ran before the stack first set the variable: the manual rollback target. */
  readonly previousTaskDefinitionArn: string;
  /** The variable already had this value everywhere before the stack set it: delete leaves it. */
  readonly preexisting: boolean;
  /** Named containers of the live definition without the value, at the last read (drift). */
  readonly missing: string[];
}

/** Inputs whose change means another variable on another service: replace (set the new, then unset the old). */
const IDENTITY: readonly (keyof ServiceVariableInputs)[] = ['region', 'profile', 'cluster', 'service', 'variable'];
const SETTINGS: readonly (keyof ServiceVariableInputs)[] = ['containers', 'value', 'after', 'maxWaitSeconds', 'pollSeconds'];
/** Times the service's task definition may change under us (a client deploy) before we give up. */
const ATTEMPTS = 3;

interface Outcome {
  readonly serviceArn: string;
  /** What the service runs now: the new revision, or `before` when nothing had to change. */
  readonly taskDefinitionArn: string;
  readonly before: string;
  readonly changed: boolean;
}

/** Why these inputs cannot work (the engine reports them against the property). */
export function inputFailures(news: Partial<ServiceVariableInputs>): pulumi.dynamic.CheckFailure[] {
  const failures: pulumi.dynamic.CheckFailure[] = [];
  const text = (key: keyof ServiceVariableInputs) => {
    if (typeof news[key] !== 'string' || news[key] === '') failures.push({ property: key, reason: 'must be a non-empty string' });
  };
  (['region', 'cluster', 'service', 'value'] as const).forEach(text);
  if (typeof news.variable !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(news.variable)) {
    failures.push({ property: 'variable', reason: 'must be an environment variable name' });
  }
  const containers = news.containers;
  if (!Array.isArray(containers) || containers.length === 0 || new Set(containers).size !== containers.length) {
    failures.push({ property: 'containers', reason: 'must name at least one container, each once' });
  }
  for (const key of ['maxWaitSeconds', 'pollSeconds'] as const) {
    if (typeof news[key] !== 'number' || !(news[key] > 0)) failures.push({ property: key, reason: 'must be a positive number of seconds' });
  }
  return failures;
}

/**
 * Sets the variable to `p.value` in `set` and removes it from `unset` where it holds a value the
 * stack put there (`ours`), on the service's current definition; registers and deploys only if
 * that changes something.
 */
async function applyVariable(p: ServiceVariableInputs, set: readonly string[], unset: readonly string[], ours: readonly string[]): Promise<Outcome> {
  const ecs = ecsClient(p);
  const ref = { cluster: p.cluster, service: p.service };
  const wait = { maxWaitSeconds: p.maxWaitSeconds, pollSeconds: p.pollSeconds };
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const service = await requireService(ecs.client, ref);
    const controller = service.deploymentController?.type ?? 'ECS';
    if (controller !== 'ECS') {
      throw new Error(`${p.service} uses the ${controller} deployment controller: UpdateService cannot change its task definition`);
    }
    const before = service.taskDefinition ?? '';
    const serviceArn = service.serviceArn ?? `${p.cluster}/${p.service}`;
    const live = await describeDefinition(ecs, before);
    const problems = definitionProblems(live.taskDefinition, set, p.variable);
    if (problems.length > 0) throw new Error(`${p.service}: ${problems.join('; ')}`);
    const current = registrationOf(live.taskDefinition, live.tags);
    const next = withVariable(current, { variable: p.variable, value: p.value, set, unset, ours });
    if (differingPaths(current, next).length === 0) return { serviceArn, taskDefinitionArn: before, before, changed: false };

    const arn = await registerDefinition(ecs.client, next);
    const registered = await describeDefinition(ecs, arn);
    const moved = differingPaths(next, registrationOf(registered.taskDefinition, registered.tags));
    if (moved.length > 0) {
      throw new Error(`${revisionName(arn)} came back different from what was registered (${moved.join(', ')}): ${p.service} was not updated`);
    }
    // A client deploy between our read and now: start again from their newest revision.
    if ((await requireService(ecs.client, ref)).taskDefinition !== before) continue;
    await pointServiceAt(ecs.client, ref, arn);
    const steady = await waitSteady(ecs.client, ref, wait);
    if (steady.taskDefinition !== arn) {
      throw new Error(
        `${p.service} is steady on ${revisionName(steady.taskDefinition ?? '?')}, not on ${revisionName(arn)}: ` +
          `ECS rolled the deployment back or another deploy replaced it (aws ecs describe-services --cluster ${p.cluster} --services ${p.service})`,
      );
    }
    return { serviceArn, taskDefinitionArn: arn, before, changed: true };
  }
  throw new Error(`${p.service}: its task definition changed ${ATTEMPTS} times while the stack was updating it; run pulumi up again`);
}

async function waitForPrerequisite(p: ServiceVariableInputs): Promise<void> {
  if (p.after === undefined) return;
  await waitSteady(ecsClient(p).client, p.after, { maxWaitSeconds: p.maxWaitSeconds, pollSeconds: p.pollSeconds });
}

/** The live service and the named containers lacking the value (undefined: the service is gone). */
async function observe(p: ServiceVariableInputs): Promise<{ service: Ecs.Service; missing: string[] } | undefined> {
  const ecs = ecsClient(p);
  const service = await findService(ecs.client, p);
  if (service === undefined) return undefined;
  const live = await describeDefinition(ecs, service.taskDefinition ?? '');
  return { service, missing: containersWithout(live.taskDefinition.containerDefinitions ?? [], p.containers, p.variable, p.value) };
}

function state(p: ServiceVariableInputs, outcome: Outcome, previous: string, preexisting: boolean): ServiceVariableState {
  return { ...p, taskDefinitionArn: outcome.taskDefinitionArn, previousTaskDefinitionArn: previous, preexisting, missing: [] };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

export const serviceVariableProvider: pulumi.dynamic.ResourceProvider<ServiceVariableInputs, ServiceVariableState> = {
  async check(_olds, news) {
    const failures = inputFailures(news);
    return failures.length > 0 ? { inputs: news, failures } : { inputs: news };
  },

  async diff(_id, olds, news) {
    const replaces = IDENTITY.filter((key) => !same(olds[key], news[key]));
    if (replaces.length > 0) return { changes: true, replaces, deleteBeforeReplace: false };
    const changed = SETTINGS.filter((key) => !same(olds[key], news[key]));
    if (changed.length > 0) return { changes: true };
    // Nothing changed in config: is the variable still on the live service?
    const live = await observe(news);
    return { changes: live === undefined || live.missing.length > 0 };
  },

  async create(inputs) {
    await waitForPrerequisite(inputs);
    const outcome = await applyVariable(inputs, inputs.containers, [], [inputs.value]);
    return { id: outcome.serviceArn, outs: state(inputs, outcome, outcome.before, !outcome.changed) };
  },

  async update(_id, olds, news) {
    await waitForPrerequisite(news);
    // Containers dropped from the list lose the variable; the listed ones get the new value.
    const dropped = olds.containers.filter((c) => !news.containers.includes(c));
    const outcome = await applyVariable(news, news.containers, dropped, [olds.value, news.value]);
    return { outs: state(news, outcome, olds.previousTaskDefinitionArn, olds.preexisting && !outcome.changed) };
  },

  async read(id, props) {
    if (props === undefined) return { id, props };
    const live = await observe(props);
    if (live === undefined) return {};
    return { id, props: { ...props, taskDefinitionArn: live.service.taskDefinition ?? props.taskDefinitionArn, missing: live.missing } };
  },

  async delete(_id, props) {
    if (props.preexisting) return;
    if ((await findService(ecsClient(props).client, props)) === undefined) return;
    await applyVariable(props, [], props.containers, [props.value]);
  },
};

/** The inputs as the program gives them (Outputs allowed, nested ones too). */
export type ServiceVariableArgs = { readonly [K in Exclude<keyof ServiceVariableInputs, 'after'>]-?: pulumi.Input<ServiceVariableInputs[K]> } & {
  readonly after?: { readonly cluster: pulumi.Input<string>; readonly service: pulumi.Input<string> };
};

/** EMBEDDING_SERVICE_URL (or any one variable) on a live ECS service, owned by nothing but this resource. */
export class ServiceVariable extends pulumi.dynamic.Resource {
  // `declare`: set by the engine through the super constructor; a class field would overwrite them (ES2022 fields).
  declare public readonly taskDefinitionArn: pulumi.Output<string>;
  declare public readonly previousTaskDefinitionArn: pulumi.Output<string>;
  declare public readonly missing: pulumi.Output<string[]>;

  constructor(name: string, args: ServiceVariableArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      serviceVariableProvider,
      name,
      { ...args, taskDefinitionArn: undefined, previousTaskDefinitionArn: undefined, preexisting: undefined, missing: undefined },
      opts,
      'superschedules',
      'ServiceVariable',
    );
  }
}
