/**
 * A local HTTP server speaking the ECS JSON 1.1 API (X-Amz-Target
 * `AmazonEC2ContainerServiceV20141113.<Operation>`) for the operations the client wiring calls:
 * DescribeServices, DescribeTaskDefinition, RegisterTaskDefinition, UpdateService. It keeps its
 * services and revisions in memory, records every call, and can play what production does to a
 * deploy: a rollback by the circuit breaker, a client deploy racing ours, slow steady state.
 * Point the SDK at it with AWS_ENDPOINT_URL_ECS (and fake credentials).
 */
import * as http from 'http';
import type { AddressInfo } from 'net';
import type { Service, Tag } from '@aws-sdk/client-ecs';
import { LiveDefinition } from './live-account';

const TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113.';
/** What ECS adds to a registered task definition; RegisterTaskDefinition has no such parameters. */
const SET_BY_ECS = ['taskDefinitionArn', 'revision', 'status', 'requiresAttributes', 'compatibilities', 'registeredAt', 'registeredBy'];

export interface RecordedCall {
  readonly operation: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly input: any;
}

class EcsError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

type Json = Record<string, unknown>;

export class FakeEcs {
  readonly calls: RecordedCall[] = [];
  private readonly services = new Map<string, Service>();
  /** Task definitions by ARN, as JSON (registeredAt in epoch seconds). */
  private readonly definitions = new Map<string, { taskDefinition: Json; tags: Tag[] }>();
  private server?: http.Server;

  /** Services whose next deployment fails: the circuit breaker rolls them back to what they ran. */
  readonly failingDeployments = new Set<string>();
  /** Services that need this many more DescribeServices polls before their deployment is steady. */
  readonly pollsUntilSteady = new Map<string, number>();
  /** Called once per RegisterTaskDefinition, after it (to play a client deploy racing ours). */
  afterRegister?: (family: string) => void;
  /** Fields added to DescribeTaskDefinition answers for this ARN (a field newer than the SDK). */
  readonly extraFields = new Map<string, Json>();

  constructor(definitions: readonly LiveDefinition[], services: readonly Service[]) {
    for (const d of definitions) this.definitions.set(String(d.taskDefinition.taskDefinitionArn), structuredClone({ taskDefinition: d.taskDefinition as Json, tags: d.tags }));
    for (const s of services) this.services.set(String(s.serviceName), structuredClone(s));
  }

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const operation = String(req.headers['x-amz-target'] ?? '').replace(TARGET_PREFIX, '');
        res.setHeader('content-type', 'application/x-amz-json-1.1');
        try {
          const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
          this.calls.push({ operation, input });
          res.end(JSON.stringify(this.handle(operation, input)));
        } catch (err) {
          const type = err instanceof EcsError ? err.type : 'ServerException';
          res.statusCode = type === 'ServerException' ? 500 : 400;
          res.end(JSON.stringify({ __type: type, message: (err as Error).message }));
        }
      });
    });
    await new Promise<void>((done) => this.server?.listen(0, '127.0.0.1', done));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((done) => (this.server ? this.server.close(() => done()) : done()));
  }

  service(name: string): Service {
    const service = this.services.get(name);
    if (service === undefined) throw new Error(`no service ${name}`);
    return service;
  }

  definition(arn: string): { taskDefinition: Json; tags: Tag[] } {
    const d = this.definitions.get(arn);
    if (d === undefined) throw new Error(`no task definition ${arn}`);
    return d;
  }

  /**
   * A stored revision as it was registered (without what ECS added) and without one environment
   * variable: two revisions that differ only by that variable compare equal.
   */
  registeredWithout(arn: string, variable: string): Json {
    const td = structuredClone(this.definition(arn).taskDefinition);
    for (const key of SET_BY_ECS) delete td[key];
    for (const c of (td.containerDefinitions as { environment?: { name: string }[] }[]) ?? []) {
      if (c.environment !== undefined) c.environment = c.environment.filter((e) => e.name !== variable);
    }
    return td;
  }

  /** ARNs of a family's revisions, oldest first. */
  revisions(family: string): string[] {
    return [...this.definitions.values()]
      .map((d) => d.taskDefinition)
      .filter((td) => td.family === family)
      .sort((a, b) => Number(a.revision) - Number(b.revision))
      .map((td) => String(td.taskDefinitionArn));
  }

  operations(): string[] {
    return this.calls.map((c) => c.operation);
  }

  /** What a client's own CI does: registers a revision from its template and deploys it at once. */
  clientDeploy(serviceName: string, edit: (td: Json) => void): string {
    const service = this.service(serviceName);
    const td = structuredClone(this.definition(String(service.taskDefinition)));
    for (const key of SET_BY_ECS) delete td.taskDefinition[key];
    edit(td.taskDefinition);
    const arn = this.register(td.taskDefinition, td.tags.filter((t) => !String(t.key).startsWith('aws:')));
    this.deploy(service, arn);
    return arn;
  }

  private handle(operation: string, input: Json): Json {
    switch (operation) {
      case 'DescribeServices':
        return this.describeServices(input);
      case 'DescribeTaskDefinition':
        return this.describeTaskDefinition(input);
      case 'RegisterTaskDefinition': {
        const { tags, ...td } = input;
        const arn = this.register(td, (tags as Tag[] | undefined) ?? []);
        this.afterRegister?.(String(td.family));
        return { taskDefinition: this.definition(arn).taskDefinition, tags: this.definition(arn).tags };
      }
      case 'UpdateService':
        return this.updateService(input);
      default:
        throw new EcsError('InvalidParameterException', `operation ${operation} is not supported by this fake`);
    }
  }

  private describeServices(input: Json): Json {
    const names = (input.services as string[]) ?? [];
    const services: Service[] = [];
    const failures: Json[] = [];
    for (const name of names) {
      const service = this.services.get(name.split('/').pop() ?? name);
      if (service === undefined) {
        failures.push({ arn: `${String(input.cluster)}/${name}`.replace(':cluster/', ':service/'), reason: 'MISSING' });
        continue;
      }
      const wait = this.pollsUntilSteady.get(String(service.serviceName)) ?? 0;
      if (wait > 0) this.pollsUntilSteady.set(String(service.serviceName), wait - 1);
      services.push(wait > 0 ? { ...service, deployments: [...(service.deployments ?? []), { status: 'ACTIVE', rolloutState: 'IN_PROGRESS' }] } : service);
    }
    return { services, failures } as Json;
  }

  private describeTaskDefinition(input: Json): Json {
    const ref = String(input.taskDefinition);
    const arn = this.definitions.has(ref) ? ref : this.resolveFamilyRevision(ref);
    const d = this.definition(arn);
    const extra = this.extraFields.get(arn) ?? {};
    const include = (input.include as string[] | undefined) ?? [];
    return { taskDefinition: { ...d.taskDefinition, ...extra }, ...(include.includes('TAGS') ? { tags: d.tags } : {}) };
  }

  private resolveFamilyRevision(ref: string): string {
    const [family, revision] = ref.split(':');
    const arns = this.revisions(family);
    const arn = revision === undefined ? arns[arns.length - 1] : arns.find((a) => a.endsWith(`:${revision}`));
    if (arn === undefined) throw new EcsError('ClientException', 'Unable to describe task definition.');
    return arn;
  }

  private register(td: Json, tags: readonly Tag[]): string {
    for (const key of SET_BY_ECS) {
      if (key in td) throw new EcsError('ClientException', `Unexpected key '${key}' found in params`);
    }
    if (tags.some((t) => String(t.key).startsWith('aws:'))) throw new EcsError('InvalidParameterException', 'Tag keys beginning with aws: are reserved');
    const family = String(td.family);
    const revision = this.revisions(family).length === 0 ? 1 : Math.max(...this.revisions(family).map((a) => Number(a.split(':').pop()))) + 1;
    const arn = String(this.revisions(family)[0] ?? `arn:aws:ecs:us-east-1:123456789012:task-definition/${family}:0`).replace(/:\d+$/, `:${revision}`);
    this.definitions.set(arn, {
      taskDefinition: {
        ...structuredClone(td),
        taskDefinitionArn: arn,
        revision,
        status: 'ACTIVE',
        compatibilities: ['EC2', 'FARGATE'],
        requiresAttributes: [{ name: 'com.amazonaws.ecs.capability.docker-remote-api.1.19' }],
        registeredAt: Date.now() / 1000,
        registeredBy: 'arn:aws:sts::123456789012:assumed-role/fake/tests',
      },
      tags: structuredClone([...tags]),
    });
    return arn;
  }

  private updateService(input: Json): Json {
    const name = String(input.service).split('/').pop() ?? '';
    const service = this.services.get(name);
    if (service === undefined) throw new EcsError('ServiceNotFoundException', 'Service not found.');
    const arn = this.definitions.has(String(input.taskDefinition)) ? String(input.taskDefinition) : this.resolveFamilyRevision(String(input.taskDefinition));
    if (this.failingDeployments.delete(name)) {
      // The circuit breaker: the new tasks never got healthy, ECS went back to what ran before.
      service.events = [{ message: `(service ${name}) deployment failed: tasks failed to start; rolling back` }];
      return { service };
    }
    this.deploy(service, arn);
    return { service };
  }

  private deploy(service: Service, arn: string): void {
    const desired = service.desiredCount ?? 1;
    service.taskDefinition = arn;
    service.deployments = [{ id: `ecs-svc/${Date.now()}`, status: 'PRIMARY', taskDefinition: arn, desiredCount: desired, runningCount: desired, pendingCount: 0, rolloutState: 'COMPLETED' }];
    service.runningCount = desired;
  }
}
