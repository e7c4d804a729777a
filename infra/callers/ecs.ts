/**
 * The ECS calls the client wiring makes, on the AWS SDK v3 (@aws-sdk/client-ecs): read a service,
 * read a task definition with its tags (refusing one that has fields this SDK does not know),
 * register a revision, point a service at it, wait for steady state.
 *
 * The SDK is required inside the functions, not imported at the top: Pulumi serializes the dynamic
 * provider with the functions it calls, and a `require` in a function body is resolved where the
 * provider runs, against the project's node_modules. Credentials come from the SDK's default chain
 * (or `profile`); `AWS_ENDPOINT_URL_ECS` redirects the calls (the tests' fake ECS).
 */
import type * as Ecs from '@aws-sdk/client-ecs';
import { fieldsLost, revisionName } from './definition';

export interface EcsTarget {
  readonly region: string;
  /** A named profile of the shared AWS config (the stack's `aws:profile`); unset: the default chain. */
  readonly profile?: string;
}

export interface ServiceRef {
  readonly cluster: string;
  readonly service: string;
}

export interface LiveDefinition {
  readonly taskDefinition: Ecs.TaskDefinition;
  readonly tags: Ecs.Tag[];
}

export interface Steadiness {
  readonly maxWaitSeconds: number;
  readonly pollSeconds: number;
}

/** The SDK's ECS module, loaded where the caller runs. */
function sdk(): typeof Ecs {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@aws-sdk/client-ecs') as typeof Ecs;
}

/**
 * An ECS client that keeps the raw JSON of each DescribeTaskDefinition answer: the SDK drops the
 * members it does not know, so the raw answer is what tells whether a copy would lose something.
 */
export function ecsClient(target: EcsTarget): { client: Ecs.ECSClient; rawAnswers: WeakMap<object, unknown> } {
  const client = new (sdk().ECSClient)({ region: target.region, ...(target.profile !== undefined ? { profile: target.profile } : {}) });
  const rawAnswers = new WeakMap<object, unknown>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const response = result.response as { body?: AsyncIterable<Uint8Array> | Uint8Array; statusCode?: number };
      if (context.commandName !== 'DescribeTaskDefinitionCommand' || response.statusCode !== 200 || response.body === undefined) return result;
      const chunks: Uint8Array[] = [];
      if (response.body instanceof Uint8Array) chunks.push(response.body);
      else for await (const chunk of response.body) chunks.push(chunk);
      const body = Buffer.concat(chunks);
      response.body = new Uint8Array(body);
      rawAnswers.set(args.input as object, JSON.parse(body.toString('utf8')));
      return result;
    },
    // After the deserializer in the deserialize step: this middleware sees the response first.
    { step: 'deserialize', priority: 'low', name: 'keepRawTaskDefinition' },
  );
  return { client, rawAnswers };
}

/** The service as DescribeServices returns it; undefined when it does not exist or is INACTIVE. */
export async function findService(client: Ecs.ECSClient, ref: ServiceRef): Promise<Ecs.Service | undefined> {
  const out = await client.send(new (sdk().DescribeServicesCommand)({ cluster: ref.cluster, services: [ref.service] }));
  const service = out.services?.find((s) => s.serviceName === ref.service || s.serviceArn === ref.service);
  return service === undefined || service.status === 'INACTIVE' ? undefined : service;
}

/** Like findService, but a missing service is an error naming it. */
export async function requireService(client: Ecs.ECSClient, ref: ServiceRef): Promise<Ecs.Service> {
  const service = await findService(client, ref);
  if (service === undefined) throw new Error(`ECS service ${ref.service} not found (or INACTIVE) in cluster ${ref.cluster}`);
  return service;
}

/** A task definition and its tags; refuses one with fields the SDK would drop from a copy. */
export async function describeDefinition(ecs: ReturnType<typeof ecsClient>, arn: string): Promise<LiveDefinition> {
  const input = { taskDefinition: arn, include: ['TAGS' as const] };
  const out = await ecs.client.send(new (sdk().DescribeTaskDefinitionCommand)(input));
  if (out.taskDefinition === undefined) throw new Error(`DescribeTaskDefinition returned no task definition for ${arn}`);
  const lost = fieldsLost(ecs.rawAnswers.get(input), out);
  if (lost.length > 0) {
    throw new Error(
      `${revisionName(arn)} has fields that @aws-sdk/client-ecs does not know (${lost.join(', ')}): ` +
        'a copy would drop them. Upgrade @aws-sdk/client-ecs before wiring this service.',
    );
  }
  return { taskDefinition: out.taskDefinition, tags: out.tags ?? [] };
}

export async function registerDefinition(client: Ecs.ECSClient, input: Ecs.RegisterTaskDefinitionCommandInput): Promise<string> {
  const out = await client.send(new (sdk().RegisterTaskDefinitionCommand)(input));
  const arn = out.taskDefinition?.taskDefinitionArn;
  if (arn === undefined) throw new Error(`RegisterTaskDefinition returned no ARN for family ${input.family}`);
  return arn;
}

/** UpdateService with the task definition only: every other setting of the service stays as it is. */
export async function pointServiceAt(client: Ecs.ECSClient, ref: ServiceRef, taskDefinitionArn: string): Promise<void> {
  await client.send(new (sdk().UpdateServiceCommand)({ cluster: ref.cluster, service: ref.service, taskDefinition: taskDefinitionArn }));
}

/**
 * Waits until the service has one deployment with every desired task running (the SDK's
 * services-stable waiter), then returns the service as it is.
 */
export async function waitSteady(client: Ecs.ECSClient, ref: ServiceRef, wait: Steadiness): Promise<Ecs.Service> {
  try {
    await sdk().waitUntilServicesStable(
      { client, maxWaitTime: wait.maxWaitSeconds, minDelay: wait.pollSeconds, maxDelay: Math.max(wait.pollSeconds, 30) },
      { cluster: ref.cluster, services: [ref.service] },
    );
  } catch (err) {
    throw new Error(`ECS service ${ref.service} did not become steady within ${wait.maxWaitSeconds}s: ${(err as Error).message}`);
  }
  return requireService(client, ref);
}
