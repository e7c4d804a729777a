/**
 * Typed parse and validation of the stack configuration (namespace `embedding:`).
 *
 * Pure: `infra/index.ts` reads the raw values from `pulumi.Config` and hands them here; this module
 * checks every field, reports all problems in one error, applies defaults with `??` and returns a
 * frozen object. Components never see `pulumi.Config`.
 */
import { z } from 'zod';
import {
  EMBEDDING_MIN_CPU,
  EMBEDDING_MIN_MEMORY,
  FARGATE_MAX_STOP_TIMEOUT_SECONDS,
  LOG_RETENTION_DAYS,
  embeddingSizeProblems,
  fargateSizeProblems,
  stopTimeoutSeconds,
} from './sizing';

export const EMBEDDING_PORT = 8003;
export const EMBEDDING_SERVICE_NAME = 'embedding-service';
export const CLOUD_MAP_SERVICE_NAME = 'embedding';
export const LOG_GROUP_NAME = '/ecs/embedding-service';
/** Pinned ADOT collector (AWS's public image). Override with `embedding:adotImage`. */
export const DEFAULT_ADOT_IMAGE = 'public.ecr.aws/aws-observability/aws-otel-collector:v0.45.0';

export const DEFAULTS = Object.freeze({
  cpu: EMBEDDING_MIN_CPU,
  memory: EMBEDDING_MIN_MEMORY,
  logRetentionDays: 30,
  logLevel: 'info' as const,
  shutdownGraceMs: 25_000,
  namespaceName: 'superschedules.local',
  egress: 'existing' as const,
  wireClients: true,
  adotImage: DEFAULT_ADOT_IMAGE,
  slowRequestMs: 1000,
  imagePlatform: 'linux/amd64',
  clientCpu: 256,
  clientMemory: 512,
  clientDesiredCount: 1,
});

const id = (prefix: string) => z.string().regex(new RegExp(`^${prefix}-[0-9a-z]+$`), `must look like ${prefix}-…`);
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');

const clientSchema = z.strictObject({
  image: z.string().min(1),
  command: z.array(z.string()).optional(),
  cpu: z.number().int().optional(),
  memory: z.number().int().optional(),
  port: z.number().int().min(1).max(65535).optional(),
  environment: z.record(envName, z.string()).optional(),
  desiredCount: z.number().int().min(0).optional(),
  assignPublicIp: z.boolean().optional(),
  taskRoleArn: z.string().startsWith('arn:aws:iam::').optional(),
  serviceName: z.string().min(1).optional(),
});

/** Raw values as read from `pulumi.Config` (undefined when unset). */
export const rawSchema = z.object({
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as us-east-1'),
  vpcId: id('vpc').optional(),
  subnetIds: z.array(id('subnet')).min(1).optional(),
  routeTableIds: z.array(id('rtb')).min(1).optional(),
  clusterArn: z.string().regex(/^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster\/[A-Za-z0-9_-]+$/, 'must be an ECS cluster ARN').optional(),
  namespaceId: id('ns').optional(),
  namespaceName: z.string().regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/, 'must be a DNS name').optional(),
  djangoSecurityGroupId: id('sg').optional(),
  chatSecurityGroupId: id('sg').optional(),
  egress: z.enum(['existing', 'endpoints']).optional(),
  cpu: z.number().int().optional(),
  memory: z.number().int().optional(),
  logRetentionDays: z.number().int().refine((d) => LOG_RETENTION_DAYS.includes(d), 'is not a CloudWatch retention value').optional(),
  logLevel: z.enum(['error', 'warn', 'info', 'debug']).optional(),
  shutdownGraceMs: z.number().int().min(0).optional(),
  adotImage: z.string().min(1).optional(),
  slowRequestMs: z.number().int().min(1).optional(),
  alarmTopicArn: z.string().startsWith('arn:aws').optional(),
  hfEndpoint: z.url().optional(),
  imagePlatform: z.enum(['linux/amd64', 'linux/arm64']).optional(),
  wireClients: z.boolean().optional(),
  django: clientSchema.optional(),
  chat: clientSchema.optional(),
});

export type RawStackConfig = z.input<typeof rawSchema>;
export type ClientKind = 'django' | 'chat';

export interface ClientConfig {
  readonly kind: ClientKind;
  readonly serviceName: string;
  readonly image: string;
  readonly command?: readonly string[];
  readonly cpu: number;
  readonly memory: number;
  readonly port?: number;
  readonly environment: Readonly<Record<string, string>>;
  readonly desiredCount: number;
  readonly assignPublicIp: boolean;
  readonly taskRoleArn?: string;
}

/** Existing network pieces, or `undefined` where the stack creates its own. */
export interface ExistingNetwork {
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
  readonly routeTableIds?: readonly string[];
}

export interface StackConfig {
  readonly region: string;
  readonly existingNetwork?: ExistingNetwork;
  readonly clusterArn?: string;
  readonly namespaceId?: string;
  readonly namespaceName: string;
  readonly clientSecurityGroupIds?: Readonly<Record<ClientKind, string>>;
  readonly egress: 'existing' | 'endpoints';
  readonly cpu: number;
  readonly memory: number;
  readonly logRetentionDays: number;
  readonly logLevel: 'error' | 'warn' | 'info' | 'debug';
  readonly shutdownGraceMs: number;
  readonly adotImage: string;
  readonly slowRequestMs: number;
  readonly alarmTopicArn?: string;
  readonly hfEndpoint?: string;
  readonly imagePlatform: 'linux/amd64' | 'linux/arm64';
  readonly wireClients: boolean;
  readonly clients: readonly ClientConfig[];
}

export class StackConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid stack configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'StackConfigError';
  }
}

/** Validates raw config values and returns the frozen, defaulted stack configuration. */
export function parseStackConfig(raw: Record<string, unknown>): StackConfig {
  const parsed = rawSchema.safeParse(raw);
  if (!parsed.success) {
    throw new StackConfigError(
      parsed.error.issues.map((i) => `embedding:${i.path.map(String).join('.') || '(root)'}: ${i.message}`),
    );
  }
  const c = parsed.data;
  const problems = crossFieldProblems(c);
  const clients = (['django', 'chat'] as const).flatMap((kind) => {
    const client = c[kind];
    if (client === undefined) return [];
    const cfg: ClientConfig = Object.freeze({
      kind,
      serviceName: client.serviceName ?? `superschedules-${kind}`,
      image: client.image,
      command: client.command,
      cpu: client.cpu ?? DEFAULTS.clientCpu,
      memory: client.memory ?? DEFAULTS.clientMemory,
      port: client.port,
      environment: Object.freeze({ ...(client.environment ?? {}) }),
      desiredCount: client.desiredCount ?? DEFAULTS.clientDesiredCount,
      assignPublicIp: client.assignPublicIp ?? false,
      taskRoleArn: client.taskRoleArn,
    });
    problems.push(...fargateSizeProblems(cfg.cpu, cfg.memory).map((p) => `embedding:${kind}: ${p}`));
    if ('EMBEDDING_SERVICE_URL' in cfg.environment) {
      problems.push(`embedding:${kind}.environment: EMBEDDING_SERVICE_URL is set by the program (wireClients)`);
    }
    return [cfg];
  });
  if (problems.length > 0) throw new StackConfigError(problems);

  const existingNetwork =
    c.vpcId !== undefined && c.subnetIds !== undefined
      ? Object.freeze({ vpcId: c.vpcId, subnetIds: Object.freeze([...c.subnetIds]), routeTableIds: c.routeTableIds })
      : undefined;
  const clientSecurityGroupIds =
    c.djangoSecurityGroupId !== undefined && c.chatSecurityGroupId !== undefined
      ? Object.freeze({ django: c.djangoSecurityGroupId, chat: c.chatSecurityGroupId })
      : undefined;

  return Object.freeze({
    region: c.region,
    existingNetwork,
    clusterArn: c.clusterArn,
    namespaceId: c.namespaceId,
    namespaceName: c.namespaceName ?? DEFAULTS.namespaceName,
    clientSecurityGroupIds,
    egress: c.egress ?? DEFAULTS.egress,
    cpu: c.cpu ?? DEFAULTS.cpu,
    memory: c.memory ?? DEFAULTS.memory,
    logRetentionDays: c.logRetentionDays ?? DEFAULTS.logRetentionDays,
    logLevel: c.logLevel ?? DEFAULTS.logLevel,
    shutdownGraceMs: c.shutdownGraceMs ?? DEFAULTS.shutdownGraceMs,
    adotImage: c.adotImage ?? DEFAULTS.adotImage,
    slowRequestMs: c.slowRequestMs ?? DEFAULTS.slowRequestMs,
    alarmTopicArn: c.alarmTopicArn,
    hfEndpoint: c.hfEndpoint,
    imagePlatform: c.imagePlatform ?? DEFAULTS.imagePlatform,
    wireClients: c.wireClients ?? DEFAULTS.wireClients,
    clients: Object.freeze(clients),
  });
}

function crossFieldProblems(c: z.output<typeof rawSchema>): string[] {
  const problems: string[] = [];
  const hasVpc = c.vpcId !== undefined;
  if (hasVpc !== (c.subnetIds !== undefined)) {
    problems.push('embedding:vpcId and embedding:subnetIds go together (set both to use an existing VPC, or neither)');
  }
  if (!hasVpc) {
    for (const key of ['namespaceId', 'djangoSecurityGroupId', 'chatSecurityGroupId', 'routeTableIds'] as const) {
      if (c[key] !== undefined) problems.push(`embedding:${key} belongs to an existing VPC: set embedding:vpcId too`);
    }
  }
  if ((c.djangoSecurityGroupId === undefined) !== (c.chatSecurityGroupId === undefined)) {
    problems.push('embedding:djangoSecurityGroupId and embedding:chatSecurityGroupId go together');
  }
  if (hasVpc && c.egress === 'endpoints' && c.routeTableIds === undefined) {
    problems.push('embedding:routeTableIds is required with egress=endpoints in an existing VPC (for the S3 gateway endpoint)');
  }
  const cpu = c.cpu ?? DEFAULTS.cpu;
  const memory = c.memory ?? DEFAULTS.memory;
  problems.push(...embeddingSizeProblems(cpu, memory).map((p) => `embedding:cpu/memory: ${p}`));
  const stop = stopTimeoutSeconds(c.shutdownGraceMs ?? DEFAULTS.shutdownGraceMs);
  if (stop > FARGATE_MAX_STOP_TIMEOUT_SECONDS) {
    problems.push(
      `embedding:shutdownGraceMs: needs a stopTimeout of ${stop}s, above Fargate's ${FARGATE_MAX_STOP_TIMEOUT_SECONDS}s`,
    );
  }
  return problems;
}

/** `http://embedding.superschedules.local:8003` */
export function embeddingServiceUrl(namespaceName: string, port: number = EMBEDDING_PORT): string {
  return `http://${CLOUD_MAP_SERVICE_NAME}.${namespaceName}:${port}`;
}

/** `arn:aws:ecs:us-east-1:123456789012:cluster/prod` → `prod` */
export function clusterNameFromArn(arn: string): string {
  const name = arn.split(':cluster/')[1];
  if (name === undefined || name === '') throw new Error(`not an ECS cluster ARN: ${arn}`);
  return name;
}
