/**
 * Runs the whole Pulumi program (infra/index.ts) under `pulumi.runtime.setMocks` with a given stack
 * configuration and records every registered resource: type, name, inputs, mock id, URN, parent and
 * dependencies (the latter read from the registration request, since MockResourceArgs has neither).
 *
 * One program run per test file: jest gives each file its own module registry, so each file gets a
 * fresh Pulumi runtime and a fresh import of the program.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as pulumi from '@pulumi/pulumi';
import { MockMonitor } from '@pulumi/pulumi/runtime/mocks';
import type { Service, TaskDefinition } from '@aws-sdk/client-ecs';
import { ACCOUNT, LIVE_DEFINITIONS, LIVE_SERVICES, REGION } from './live-account';

// js-yaml ships with @pulumi/pulumi; it has no bundled types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml: { load(text: string): unknown } = require('js-yaml');

export const REPO_ROOT = path.resolve(__dirname, '../../..');
export { ACCOUNT, REGION };
export const PROJECT = 'superschedules-embedding';

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  // Registered inputs as the provider would receive them (outputs resolved).
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly inputs: any;
  readonly id: string;
  readonly custom: boolean;
  urn: string;
  parent: string;
  dependencies: string[];
  /** The `retainOnDelete` resource option (from the registration request). */
  retainOnDelete: boolean;
}

/** A data-source call (invoke) the program made: token and arguments. */
export interface RecordedCall {
  readonly token: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly inputs: any;
}

export interface ProgramRun {
  readonly resources: readonly RecordedResource[];
  readonly calls: readonly RecordedCall[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly outputs: Record<string, any>;
  /** Why the program failed (a preview would fail with it); undefined when it ran. */
  readonly error?: Error;
  ofType(type: string): RecordedResource[];
  one(type: string, name: string): RecordedResource;
  byId(id: string): RecordedResource | undefined;
}

/** Reads `Pulumi.<stack>.yaml` into the flat string map `setAllConfig` takes. */
export function stackConfigFile(stack: string): Record<string, string> {
  const file = path.join(REPO_ROOT, `Pulumi.${stack}.yaml`);
  const doc = yaml.load(fs.readFileSync(file, 'utf8')) as { config: Record<string, unknown> };
  return toConfigMap(doc.config);
}

/** Plain values → Pulumi's config map (objects and arrays as JSON, scalars as strings). */
export function toConfigMap(values: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    out[key] = typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
  }
  return out;
}

function hex(text: string, length = 17): string {
  let h = 0x811c9dc5;
  let out = '';
  while (out.length < length) {
    for (const ch of `${text}${out.length}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
    out += h.toString(16).padStart(8, '0');
  }
  return out.slice(0, length);
}

/** Realistic ids and ARNs by resource type; state = inputs + what the provider would add. */
export function mockResource(type: string, name: string, inputs: Record<string, unknown>): { id: string; state: Record<string, unknown> } {
  const arn = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${resource}`;
  const str = (k: string) => (typeof inputs[k] === 'string' ? (inputs[k] as string) : name);
  switch (type) {
    case 'awsx:ec2:Vpc':
      return {
        id: '',
        state: {
          vpcId: `vpc-${hex(name)}`,
          privateSubnetIds: [`subnet-${hex(`${name}-private-a`)}`, `subnet-${hex(`${name}-private-b`)}`],
          publicSubnetIds: [`subnet-${hex(`${name}-public-a`)}`, `subnet-${hex(`${name}-public-b`)}`],
          isolatedSubnetIds: [],
        },
      };
    case 'awsx:ecr:Image':
      return { id: '', state: { imageUri: `${String(inputs.repositoryUrl)}@sha256:${hex(name, 64)}` } };
    case 'aws:ecr/repository:Repository':
      return {
        id: str('name'),
        state: { ...inputs, arn: arn('ecr', `repository/${str('name')}`), registryId: ACCOUNT, repositoryUrl: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${str('name')}` },
      };
    case 'aws:ecr/pullThroughCacheRule:PullThroughCacheRule':
      return { id: str('ecrRepositoryPrefix'), state: { ...inputs, registryId: ACCOUNT } };
    case 'aws:ec2/securityGroup:SecurityGroup': {
      const id = `sg-${hex(name)}`;
      return { id, state: { ...inputs, arn: arn('ec2', `security-group/${id}`) } };
    }
    case 'aws:ec2/managedPrefixList:ManagedPrefixList': {
      const id = `pl-${hex(name)}`;
      return { id, state: { ...inputs, arn: arn('ec2', `prefix-list/${id}`) } };
    }
    case 'aws:ec2/vpcEndpoint:VpcEndpoint':
      return { id: `vpce-${hex(name)}`, state: { ...inputs, prefixListId: inputs.vpcEndpointType === 'Gateway' ? 'pl-63a5400a' : '' } };
    case 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule':
    case 'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule':
      return { id: `sgr-${hex(name)}`, state: inputs };
    case 'aws:ecs/cluster:Cluster':
      return { id: arn('ecs', `cluster/${str('name')}`), state: { ...inputs, arn: arn('ecs', `cluster/${str('name')}`) } };
    case 'aws:ecs/taskDefinition:TaskDefinition': {
      const taskArn = arn('ecs', `task-definition/${str('family')}:1`);
      return { id: str('family'), state: { ...inputs, arn: taskArn, revision: 1 } };
    }
    case 'aws:ecs/service:Service':
      return { id: arn('ecs', `service/${str('name')}`), state: inputs };
    case 'aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace': {
      const id = `ns-${hex(name, 16)}`;
      return { id, state: { ...inputs, arn: arn('servicediscovery', `namespace/${id}`) } };
    }
    case 'aws:servicediscovery/service:Service': {
      const id = `srv-${hex(name, 16)}`;
      return { id, state: { ...inputs, arn: arn('servicediscovery', `service/${id}`) } };
    }
    case 'aws:iam/role:Role':
      return { id: name, state: { ...inputs, name, arn: `arn:aws:iam::${ACCOUNT}:role/${name}` } };
    case 'aws:cloudwatch/logGroup:LogGroup':
      return { id: str('name'), state: { ...inputs, arn: arn('logs', `log-group:${str('name')}`) } };
    case 'pulumi-nodejs:dynamic/superschedules:ServiceVariable': {
      // What the provider answers after create: a new revision of the live family, the old one kept.
      const live = LIVE_SERVICES.find((s) => s.serviceName === inputs.service);
      const before = String(live?.taskDefinition ?? `${str('service')}:1`);
      const wired = before.replace(/:(\d+)$/, (_, n: string) => `:${Number(n) + 1}`);
      return { id: String(live?.serviceArn ?? name), state: { ...inputs, taskDefinitionArn: wired, previousTaskDefinitionArn: before, preexisting: false, missing: [] } };
    }
    case 'aws:cloudwatch/metricAlarm:MetricAlarm':
      return { id: str('name'), state: { ...inputs, arn: arn('cloudwatch', `alarm:${str('name')}`) } };
    default:
      return { id: `${name}-id`, state: inputs };
  }
}

/**
 * IPv4 CIDR blocks of the VPCs the mocks know (a production VPC with a secondary block, so that
 * "every CIDR of the VPC" is tested); any other VPC (a created one) has the awsx default.
 */
export const VPC_CIDRS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  'vpc-0a1b2c3d4e5f60718': ['172.31.0.0/16', '100.64.0.0/20'],
});
export const CREATED_VPC_CIDRS: readonly string[] = ['10.42.0.0/16'];
/** The AWS-managed prefix list of S3 in us-east-1. */
export const S3_PREFIX_LIST_ID = 'pl-63a5400a';

/** Realistic answers to the data sources the program reads (the AWS provider's invoke tokens). */
export function mockCall(token: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (token) {
    case 'aws:ec2/getRouteTables:getRouteTables':
      return { ids: [`rtb-${hex('main')}`, `rtb-${hex('private')}`] };
    case 'aws:ec2/getVpc:getVpc': {
      const id = String(inputs.id);
      const cidrs = VPC_CIDRS[id] ?? CREATED_VPC_CIDRS;
      return {
        id,
        arn: `arn:aws:ec2:${REGION}:${ACCOUNT}:vpc/${id}`,
        cidrBlock: cidrs[0],
        cidrBlockAssociations: cidrs.map((cidrBlock, i) => ({ associationId: `vpc-cidr-assoc-${hex(`${id}${i}`)}`, cidrBlock, state: 'associated' })),
        enableDnsHostnames: true,
        enableDnsSupport: true,
        state: 'available',
      };
    }
    case 'aws:ec2/getPrefixList:getPrefixList':
      return { id: S3_PREFIX_LIST_ID, name: String(inputs.name), cidrBlocks: ['16.182.0.0/16', '52.216.0.0/15'] };
    case 'aws:ec2/getVpcEndpoint:getVpcEndpoint': {
      const service = String(inputs.serviceName);
      const gateway = service.endsWith('.s3');
      return {
        id: `vpce-${hex(service)}`,
        vpcId: inputs.vpcId,
        serviceName: service,
        state: 'available',
        vpcEndpointType: gateway ? 'Gateway' : 'Interface',
        privateDnsEnabled: !gateway,
        prefixListId: gateway ? S3_PREFIX_LIST_ID : '',
        securityGroupIds: gateway ? [] : [`sg-${hex(`${service}-endpoint`)}`],
      };
    }
    case 'aws:servicediscovery/getDnsNamespace:getDnsNamespace':
      return {
        id: NAMESPACE_IDS[String(inputs.name)] ?? `ns-${hex(String(inputs.name), 16)}`,
        name: inputs.name,
        type: inputs.type,
        arn: `arn:aws:servicediscovery:${REGION}:${ACCOUNT}:namespace/${NAMESPACE_IDS[String(inputs.name)] ?? 'ns-unknown'}`,
        hostedZone: `Z${hex(String(inputs.name), 20).toUpperCase()}`,
      };
    case 'aws:ecs/getCluster:getCluster':
      return {
        id: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${String(inputs.clusterName)}`,
        arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${String(inputs.clusterName)}`,
        clusterName: inputs.clusterName,
        status: 'ACTIVE',
        // Production has Container Insights off: nothing of the stack may need it.
        settings: [{ name: 'containerInsights', value: 'disabled' }],
      };
    case 'aws:ecs/getService:getService':
      return getServiceAnswer(String(inputs.clusterArn), String(inputs.serviceName));
    case 'aws:ecs/getTaskDefinition:getTaskDefinition':
      return getTaskDefinitionAnswer(String(inputs.taskDefinition));
    default:
      return {};
  }
}

/** Cloud Map namespaces the mocked account has, by name. */
export const NAMESPACE_IDS: Record<string, string> = { 'superschedules.local': 'ns-a1b2c3d4e5f6g7h8' };

/** A failed invoke as the engine reports it over gRPC (the SDK reads its `details`). */
function invokeError(token: string, reason: string): Error {
  const details = `invocation of ${token} returned an error: invoking ${token}: 1 error occurred:\n\t* ${reason}`;
  return Object.assign(new Error(details), { details });
}

/** aws.ecs.getService as the AWS provider answers it from DescribeServices (live-account.ts). */
function getServiceAnswer(clusterArn: string, serviceName: string): Record<string, unknown> {
  const s: Service | undefined = LIVE_SERVICES.find((x) => x.clusterArn === clusterArn && x.serviceName === serviceName && x.status !== 'INACTIVE');
  // The provider's error for a service DescribeServices reports MISSING (or INACTIVE).
  if (s === undefined) throw invokeError('aws:ecs/getService:getService', `reading ECS Service (${serviceName}): couldn't find resource`);
  const network = s.networkConfiguration?.awsvpcConfiguration;
  return {
    id: s.serviceArn,
    arn: s.serviceArn,
    clusterArn: s.clusterArn,
    serviceName: s.serviceName,
    status: s.status,
    taskDefinition: s.taskDefinition,
    desiredCount: s.desiredCount,
    runningCount: s.runningCount,
    launchType: s.launchType,
    schedulingStrategy: s.schedulingStrategy,
    deploymentControllers: [{ type: s.deploymentController?.type ?? 'ECS' }],
    networkConfigurations: network === undefined ? [] : [{ subnets: network.subnets, securityGroups: network.securityGroups, assignPublicIp: network.assignPublicIp === 'ENABLED' }],
    loadBalancers: s.loadBalancers,
    serviceRegistries: s.serviceRegistries,
    enableExecuteCommand: s.enableExecuteCommand ?? false,
    tags: {},
  };
}

/** aws.ecs.getTaskDefinition: the container definitions as a JSON string, as the provider flattens them. */
function getTaskDefinitionAnswer(ref: string): Record<string, unknown> {
  const td: TaskDefinition | undefined = LIVE_DEFINITIONS.map((d) => d.taskDefinition).find(
    (t) => t.taskDefinitionArn === ref || `${t.family}:${t.revision}` === ref,
  );
  if (td === undefined) throw invokeError('aws:ecs/getTaskDefinition:getTaskDefinition', `reading ECS Task Definition (${ref}): couldn't find resource`);
  return {
    id: td.taskDefinitionArn,
    arn: td.taskDefinitionArn,
    arnWithoutRevision: String(td.taskDefinitionArn).replace(/:\d+$/, ''),
    family: td.family,
    revision: td.revision,
    status: td.status,
    containerDefinitions: JSON.stringify(td.containerDefinitions),
    cpu: td.cpu,
    memory: td.memory,
    networkMode: td.networkMode,
    taskRoleArn: td.taskRoleArn,
    executionRoleArn: td.executionRoleArn,
    requiresCompatibilities: td.requiresCompatibilities,
  };
}

/** Runs infra/index.ts with `config` (keys such as `embedding:vpcId`) and records what it registers. */
export async function runProgram(config: Record<string, string>, stack = 'test'): Promise<ProgramRun> {
  const recorded: RecordedResource[] = [];
  const calls: RecordedCall[] = [];
  const byName = new Map<string, RecordedResource>();

  // Parent and dependencies are on the registration request only: wrap the mock monitor.
  type Callback = (err: unknown, res?: { getUrn(): string }) => void;
  type Request = {
    getType(): string;
    getName(): string;
    getParent(): string;
    getDependenciesList(): string[];
    getRetainondelete(): boolean | undefined;
  };
  const proto = MockMonitor.prototype as unknown as { registerResource(req: Request, cb: Callback): Promise<void> };
  const original = proto.registerResource;
  proto.registerResource = function (this: unknown, req: Request, callback: Callback) {
    return original.call(this, req, (err, res) => {
      const entry = byName.get(`${req.getType()}::${req.getName()}`);
      if (!err && res && entry) {
        entry.urn = res.getUrn();
        entry.parent = req.getParent();
        entry.dependencies = req.getDependenciesList();
        entry.retainOnDelete = req.getRetainondelete() ?? false;
      }
      callback(err, res);
    });
  };

  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const { id, state } = mockResource(args.type, args.name, args.inputs);
        const entry: RecordedResource = {
          type: args.type,
          name: args.name,
          inputs: args.inputs,
          id,
          custom: args.custom ?? true,
          urn: '',
          parent: '',
          dependencies: [],
          retainOnDelete: false,
        };
        recorded.push(entry);
        byName.set(`${args.type}::${args.name}`, entry);
        return { id, state };
      },
      call(args) {
        calls.push({ token: args.token, inputs: args.inputs });
        return mockCall(args.token, args.inputs);
      },
    },
    PROJECT,
    stack,
    false,
  );
  pulumi.runtime.setAllConfig(config);

  // infra/index.ts exports an async function (`export =`), which Pulumi runs for the stack outputs.
  const entry = (await import('../../../infra/index')) as unknown as { default: () => Promise<Record<string, unknown>> };
  const outputs: Record<string, unknown> = {};
  let error: Error | undefined;
  try {
    for (const [key, value] of Object.entries(await entry.default())) outputs[key] = await resolve(value);
  } catch (err) {
    error = err as Error;
  }
  const waitForRPCs = (pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> }).waitForRPCs;
  if (waitForRPCs !== undefined) await waitForRPCs();
  proto.registerResource = original;

  return {
    resources: recorded,
    calls,
    outputs,
    error,
    ofType: (type) => recorded.filter((r) => r.type === type),
    one(type, name) {
      const found = recorded.filter((r) => r.type === type && r.name === name);
      if (found.length !== 1) {
        throw new Error(`expected one ${type} named ${name}, found ${found.length}: ${recorded.filter((r) => r.type === type).map((r) => r.name).join(', ')}`);
      }
      return found[0];
    },
    byId: (id) => recorded.find((r) => r.id === id),
  };
}

/** Resolves an Output (or array of Outputs) to its value. */
async function resolve(value: unknown): Promise<unknown> {
  if (Array.isArray(value)) return Promise.all(value.map(resolve));
  if (pulumi.Output.isInstance(value)) {
    return new Promise((done) => (value as pulumi.Output<unknown>).apply((v) => done(v)));
  }
  return value;
}

/** The container definitions of a task definition, parsed. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function containersOf(taskDefinition: RecordedResource): any[] {
  return JSON.parse(taskDefinition.inputs.containerDefinitions as string);
}

/** Environment of a container definition as a map. */
export function envOf(container: { environment?: { name: string; value: string }[] }): Record<string, string> {
  return Object.fromEntries((container.environment ?? []).map((e) => [e.name, e.value]));
}
