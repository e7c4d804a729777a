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
/**
 * Pinned ADOT collector (AWS's public image), copied into a private repository of the stack at
 * deploy time (infra/collector/Dockerfile). v0.49.0 is the supported release (each ADOT release is
 * supported until the next minor one); its collector configuration is checked against that
 * release's components (infra/containers.ts). Override with `embedding:adotImage`.
 */
export const DEFAULT_ADOT_IMAGE = 'public.ecr.aws/aws-observability/aws-otel-collector:v0.49.0';

/**
 * Services of the VPC endpoints the task needs with `egress=endpoints` (suffixes after
 * `com.amazonaws.<region>.`): ECR API and registry (image pulls), CloudWatch Logs (awslogs and the
 * collector's EMF metrics), X-Ray (traces), and the S3 gateway endpoint ECR serves layers through.
 * No `monitoring` endpoint: nothing in the task calls PutMetricData (metrics go out as EMF logs).
 */
export const ENDPOINT_SERVICES = Object.freeze(['ecr.api', 'ecr.dkr', 'logs', 'xray', 's3'] as const);
export type EndpointService = (typeof ENDPOINT_SERVICES)[number];

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
  clientCpuArchitecture: 'X86_64' as const,
  desiredCount: 1,
});

const id = (prefix: string) => z.string().regex(new RegExp(`^${prefix}-[0-9a-z]+$`), `must look like ${prefix}-…`);
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');

const arn = (service: string) => z.string().regex(new RegExp(`^arn:aws[a-z-]*:${service}:`), `must be an ${service} ARN`);
const iamRoleArn = z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'must be an IAM role ARN');
/** An SSM parameter or Secrets Manager secret ARN, as ECS `secrets[].valueFrom` takes it. */
const secretArn = z.string().regex(/^arn:aws[a-z-]*:(ssm|secretsmanager):[a-z0-9-]+:\d{12}:(parameter\/.+|secret:.+)$/, 'must be an SSM parameter or Secrets Manager secret ARN');

/** Settings a live Django or chat service may use, mirrored so that adopting it strips nothing. */
export const clientSchema = z.strictObject({
  image: z.string().min(1),
  command: z.array(z.string()).optional(),
  cpu: z.number().int().optional(),
  memory: z.number().int().optional(),
  cpuArchitecture: z.enum(['X86_64', 'ARM64']).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  environment: z.record(envName, z.string()).optional(),
  secrets: z.record(envName, secretArn).optional(),
  desiredCount: z.number().int().min(0).optional(),
  assignPublicIp: z.boolean().optional(),
  taskRoleArn: iamRoleArn.optional(),
  executionRoleArn: iamRoleArn.optional(),
  serviceName: z.string().min(1).optional(),
  logGroupName: z.string().startsWith('/').optional(),
  healthCheck: z
    .strictObject({
      command: z.array(z.string()).min(2),
      interval: z.number().int().min(5).max(300).optional(),
      timeout: z.number().int().min(2).max(120).optional(),
      retries: z.number().int().min(1).max(10).optional(),
      startPeriod: z.number().int().min(0).max(300).optional(),
    })
    .optional(),
  loadBalancers: z
    .array(z.strictObject({ targetGroupArn: arn('elasticloadbalancing'), containerPort: z.number().int().min(1).max(65535).optional() }))
    .min(1)
    .optional(),
  healthCheckGracePeriodSeconds: z.number().int().min(0).max(2_147_483_647).optional(),
  enableExecuteCommand: z.boolean().optional(),
  capacityProviderStrategy: z
    .array(
      z.strictObject({
        capacityProvider: z.enum(['FARGATE', 'FARGATE_SPOT']),
        weight: z.number().int().min(0).max(1000).optional(),
        base: z.number().int().min(0).max(100000).optional(),
      }),
    )
    .min(1)
    .optional(),
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
  existingEndpoints: z.array(z.enum(ENDPOINT_SERVICES)).optional(),
  desiredCount: z.number().int().min(1).max(20).optional(),
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

export interface ClientHealthCheck {
  readonly command: readonly string[];
  readonly interval?: number;
  readonly timeout?: number;
  readonly retries?: number;
  readonly startPeriod?: number;
}

export interface ClientConfig {
  readonly kind: ClientKind;
  readonly serviceName: string;
  readonly image: string;
  readonly command?: readonly string[];
  readonly cpu: number;
  readonly memory: number;
  readonly cpuArchitecture: 'X86_64' | 'ARM64';
  readonly port?: number;
  readonly environment: Readonly<Record<string, string>>;
  /** Environment variable → SSM parameter or Secrets Manager ARN (ECS `secrets`). */
  readonly secrets: Readonly<Record<string, string>>;
  readonly desiredCount: number;
  readonly assignPublicIp: boolean;
  readonly taskRoleArn?: string;
  /** The live service's execution role; unset: the stack creates one (ECR pull, logs, its secrets). */
  readonly executionRoleArn?: string;
  /** An existing log group the container writes to; unset: the stack creates `/ecs/<serviceName>`. */
  readonly logGroupName?: string;
  readonly healthCheck?: ClientHealthCheck;
  readonly loadBalancers: readonly { readonly targetGroupArn: string; readonly containerPort: number }[];
  readonly healthCheckGracePeriodSeconds?: number;
  readonly enableExecuteCommand: boolean;
  /** Capacity providers instead of the FARGATE launch type (empty: launch type FARGATE). */
  readonly capacityProviderStrategy: readonly { readonly capacityProvider: 'FARGATE' | 'FARGATE_SPOT'; readonly weight?: number; readonly base?: number }[];
  /**
   * Keep the client's AWS resources when they leave the stack (`pulumi destroy`, stage 1 after stage
   * 2): true in an existing VPC, where the Django and chat services are production services adopted
   * into the stack, false where the stack created everything.
   */
  readonly retainOnDelete: boolean;
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
  /** With egress=endpoints: services whose endpoint the VPC already has (used, not created). */
  readonly existingEndpoints: readonly EndpointService[];
  /** Embedding tasks (Cloud Map answers with every healthy one). */
  readonly desiredCount: number;
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
  const existingVpc = c.vpcId !== undefined;
  const clients = (['django', 'chat'] as const).flatMap((kind) => {
    const client = c[kind];
    if (client === undefined) return [];
    const port = client.port;
    const cfg: ClientConfig = Object.freeze({
      kind,
      serviceName: client.serviceName ?? `superschedules-${kind}`,
      image: client.image,
      command: client.command,
      cpu: client.cpu ?? DEFAULTS.clientCpu,
      memory: client.memory ?? DEFAULTS.clientMemory,
      cpuArchitecture: client.cpuArchitecture ?? DEFAULTS.clientCpuArchitecture,
      port,
      environment: Object.freeze({ ...(client.environment ?? {}) }),
      secrets: Object.freeze({ ...(client.secrets ?? {}) }),
      desiredCount: client.desiredCount ?? DEFAULTS.clientDesiredCount,
      // In a created VPC the tasks sit in private subnets behind its NAT gateway.
      assignPublicIp: client.assignPublicIp ?? false,
      taskRoleArn: client.taskRoleArn,
      executionRoleArn: client.executionRoleArn,
      logGroupName: client.logGroupName,
      healthCheck: client.healthCheck,
      loadBalancers: Object.freeze(
        (client.loadBalancers ?? []).map((lb) => Object.freeze({ targetGroupArn: lb.targetGroupArn, containerPort: lb.containerPort ?? port ?? 0 })),
      ),
      healthCheckGracePeriodSeconds: client.healthCheckGracePeriodSeconds,
      enableExecuteCommand: client.enableExecuteCommand ?? false,
      capacityProviderStrategy: Object.freeze([...(client.capacityProviderStrategy ?? [])]),
      retainOnDelete: existingVpc,
    });
    problems.push(...clientProblems(kind, client, cfg, existingVpc));
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
    existingEndpoints: Object.freeze([...new Set(c.existingEndpoints ?? [])]),
    desiredCount: c.desiredCount ?? DEFAULTS.desiredCount,
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
  const reused = new Set(c.existingEndpoints ?? []);
  if (hasVpc && c.egress === 'endpoints' && c.routeTableIds === undefined && !reused.has('s3')) {
    problems.push('embedding:routeTableIds is required with egress=endpoints in an existing VPC (for the S3 gateway endpoint)');
  }
  if (reused.size > 0 && (c.egress !== 'endpoints' || !hasVpc)) {
    problems.push('embedding:existingEndpoints needs egress=endpoints in an existing VPC (embedding:vpcId)');
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

/** What a client's settings cannot be, alone or together. */
function clientProblems(kind: ClientKind, raw: NonNullable<z.output<typeof clientSchema>>, cfg: ClientConfig, existingVpc: boolean): string[] {
  const at = `embedding:${kind}`;
  const problems = fargateSizeProblems(cfg.cpu, cfg.memory).map((p) => `${at}: ${p}`);
  for (const name of ['EMBEDDING_SERVICE_URL', ...Object.keys(cfg.secrets)]) {
    if (name in cfg.environment) {
      problems.push(
        name === 'EMBEDDING_SERVICE_URL'
          ? `${at}.environment: EMBEDDING_SERVICE_URL is set by the program (wireClients)`
          : `${at}: ${name} is both in environment and in secrets`,
      );
    }
  }
  if ('EMBEDDING_SERVICE_URL' in cfg.secrets) problems.push(`${at}.secrets: EMBEDDING_SERVICE_URL is set by the program (wireClients)`);
  // A production service adopted into the stack must say how it reaches the internet: in public
  // subnets without NAT, a task without a public IP reaches neither external APIs nor ECR.
  if (existingVpc && raw.assignPublicIp === undefined) {
    problems.push(`${at}.assignPublicIp: required in an existing VPC (mirror the live service: true in public subnets without NAT)`);
  }
  if (cfg.loadBalancers.some((lb) => lb.containerPort === 0)) problems.push(`${at}.loadBalancers: containerPort (or ${at}.port) is required`);
  for (const lb of cfg.loadBalancers) {
    if (cfg.port !== undefined && lb.containerPort !== cfg.port) problems.push(`${at}.loadBalancers: containerPort ${lb.containerPort} is not the container's port ${cfg.port}`);
  }
  if (cfg.healthCheckGracePeriodSeconds !== undefined && cfg.loadBalancers.length === 0) {
    problems.push(`${at}.healthCheckGracePeriodSeconds: only with loadBalancers`);
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
