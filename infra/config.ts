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
  stopTimeoutSeconds,
} from './sizing';

export const EMBEDDING_PORT = 8003;
export const EMBEDDING_SERVICE_NAME = 'embedding-service';
export const CLOUD_MAP_SERVICE_NAME = 'embedding';
export const LOG_GROUP_NAME = '/ecs/embedding-service';
/** The variable the clients read (api/embedding_client.py); stage 2 sets it on their containers. */
export const CLIENT_URL_VARIABLE = 'EMBEDDING_SERVICE_URL';
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

/**
 * How the embedding task reaches ECR, CloudWatch Logs and X-Ray:
 * - `public-ip`: a public IP in public subnets, as its neighbours have (production); nothing of the
 *   VPC changes, and the security group still admits only the clients on the service's port;
 * - `existing`: the subnets already route to AWS (a NAT gateway, or endpoints that exist); no public IP;
 * - `endpoints`: VPC endpoints this stack creates, for private subnets without NAT. Their private
 *   DNS applies to the whole VPC (docs/deploy.md, "Egress").
 */
export const EGRESS_MODES = Object.freeze(['public-ip', 'existing', 'endpoints'] as const);
export type EgressMode = (typeof EGRESS_MODES)[number];

export const DEFAULTS = Object.freeze({
  cpu: EMBEDDING_MIN_CPU,
  memory: EMBEDDING_MIN_MEMORY,
  logRetentionDays: 30,
  logLevel: 'info' as const,
  shutdownGraceMs: 25_000,
  namespaceName: 'superschedules.local',
  /** In a VPC this stack creates (private subnets behind one NAT gateway); an existing VPC must say. */
  egress: 'existing' as const,
  /** Stage 1: nothing of the clients changes until `embedding:wireClients` is set to true. */
  wireClients: false,
  adotImage: DEFAULT_ADOT_IMAGE,
  slowRequestMs: 1000,
  imagePlatform: 'linux/amd64',
  desiredCount: 1,
});

const id = (prefix: string) => z.string().regex(new RegExp(`^${prefix}-[0-9a-z]+$`), `must look like ${prefix}-…`);
/** ECS service and container names: up to 255 letters, numbers, hyphens and underscores (CreateService, ContainerDefinition). */
const ecsName = z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, 'must be an ECS name (up to 255 letters, numbers, hyphens, underscores)');

/**
 * One live ECS service that calls the embedding service: the containers that get
 * EMBEDDING_SERVICE_URL in stage 2 and the security groups its tasks use (the sources admitted to
 * the service's port). The stack reads the service; it owns nothing of it.
 */
export const clientSchema = z.strictObject({
  service: ecsName,
  containers: z.array(ecsName).min(1),
  securityGroups: z.array(id('sg')).min(1),
});

/** Raw values as read from `pulumi.Config` (undefined when unset). */
export const rawSchema = z.object({
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as us-east-1'),
  vpcId: id('vpc').optional(),
  subnetIds: z.array(id('subnet')).min(1).optional(),
  routeTableIds: z.array(id('rtb')).min(1).optional(),
  clusterArn: z.string().regex(/^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster\/[A-Za-z0-9_-]{1,255}$/, 'must be an ECS cluster ARN').optional(),
  namespaceId: id('ns').optional(),
  namespaceName: z.string().regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/, 'must be a DNS name').optional(),
  egress: z.enum(EGRESS_MODES).optional(),
  existingEndpoints: z.array(z.enum(ENDPOINT_SERVICES)).optional(),
  desiredCount: z.number().int().min(1).max(20).optional(),
  cpu: z.number().int().optional(),
  memory: z.number().int().optional(),
  logRetentionDays: z.number().int().refine((d) => LOG_RETENTION_DAYS.includes(d), 'is not a CloudWatch retention value').optional(),
  logLevel: z.enum(['error', 'warn', 'info', 'debug']).optional(),
  shutdownGraceMs: z.number().int().min(0).optional(),
  adotImage: z.string().min(1).optional(),
  slowRequestMs: z.number().int().min(1).optional(),
  alarmTopicArn: z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/, 'must be an SNS topic ARN').optional(),
  hfEndpoint: z.url().optional(),
  imagePlatform: z.enum(['linux/amd64', 'linux/arm64']).optional(),
  wireClients: z.boolean().optional(),
  clients: z.array(clientSchema).optional(),
});

/**
 * Keys of earlier versions that described the clients as services for the stack to run. The stack
 * no longer runs or mirrors them: a stack file that still sets one fails instead of being ignored.
 */
export const RETIRED_KEYS = Object.freeze(['django', 'chat', 'djangoSecurityGroupId', 'chatSecurityGroupId'] as const);

export type RawStackConfig = z.input<typeof rawSchema>;

/** A live caller of the embedding service (`embedding:clients[i]`). */
export interface ClientConfig {
  /** `embedding:clients[2] (superschedules-celery-worker)`: how messages name the entry. */
  readonly label: string;
  /** ECS service name in the cluster `clusterArn`. */
  readonly service: string;
  /** Containers of its task definition that get EMBEDDING_SERVICE_URL. */
  readonly containers: readonly string[];
  /** Security groups of its tasks admitted to the embedding service's port. */
  readonly securityGroups: readonly string[];
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
  readonly egress: EgressMode;
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
  /** Stage 2: EMBEDDING_SERVICE_URL on every client. False (stage 1): the clients are only read. */
  readonly wireClients: boolean;
  readonly clients: readonly ClientConfig[];
  /** Every security group of the clients, each once, in config order. */
  readonly clientSecurityGroupIds: readonly string[];
}

export class StackConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid stack configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'StackConfigError';
  }
}

/** Validates raw config values and returns the frozen, defaulted stack configuration. */
export function parseStackConfig(raw: Record<string, unknown>): StackConfig {
  const retired = RETIRED_KEYS.filter((key) => raw[key] !== undefined).map(
    (key) => `embedding:${key}: no longer read; list the live services in embedding:clients instead (docs/deploy.md, "Callers")`,
  );
  const parsed = rawSchema.safeParse(raw);
  if (!parsed.success) {
    throw new StackConfigError([
      ...retired,
      ...parsed.error.issues.map((i) => `embedding:${i.path.map(String).join('.') || '(root)'}: ${i.message}`),
    ]);
  }
  const c = parsed.data;
  const clients = (c.clients ?? []).map((client, i) =>
    Object.freeze({
      label: `embedding:clients[${i}] (${client.service})`,
      service: client.service,
      containers: Object.freeze([...new Set(client.containers)]),
      securityGroups: Object.freeze([...new Set(client.securityGroups)]),
    }),
  );
  const problems = [...retired, ...crossFieldProblems(c, clients)];
  if (problems.length > 0) throw new StackConfigError(problems);

  const existingNetwork =
    c.vpcId !== undefined && c.subnetIds !== undefined
      ? Object.freeze({ vpcId: c.vpcId, subnetIds: Object.freeze([...c.subnetIds]), routeTableIds: c.routeTableIds })
      : undefined;

  return Object.freeze({
    region: c.region,
    existingNetwork,
    clusterArn: c.clusterArn,
    namespaceId: c.namespaceId,
    namespaceName: c.namespaceName ?? DEFAULTS.namespaceName,
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
    clientSecurityGroupIds: Object.freeze([...new Set(clients.flatMap((client) => client.securityGroups))]),
  });
}

function crossFieldProblems(c: z.output<typeof rawSchema>, clients: readonly ClientConfig[]): string[] {
  const problems: string[] = [];
  const hasVpc = c.vpcId !== undefined;
  if (hasVpc !== (c.subnetIds !== undefined)) {
    problems.push('embedding:vpcId and embedding:subnetIds go together (set both to use an existing VPC, or neither)');
  }
  if (!hasVpc) {
    for (const key of ['namespaceId', 'routeTableIds'] as const) {
      if (c[key] !== undefined) problems.push(`embedding:${key} belongs to an existing VPC: set embedding:vpcId too`);
    }
  }
  if (hasVpc && c.egress === undefined) {
    problems.push(`embedding:egress: required in an existing VPC (${EGRESS_MODES.join(', ')}; docs/deploy.md, "Egress")`);
  }
  const reused = new Set(c.existingEndpoints ?? []);
  if (hasVpc && c.egress === 'endpoints' && c.routeTableIds === undefined && !reused.has('s3')) {
    problems.push('embedding:routeTableIds is required with egress=endpoints in an existing VPC (for the S3 gateway endpoint)');
  }
  if (c.routeTableIds !== undefined && c.egress !== 'endpoints') {
    problems.push('embedding:routeTableIds is only for egress=endpoints (the S3 gateway endpoint): no other egress touches a route table');
  }
  if (reused.size > 0 && (c.egress !== 'endpoints' || !hasVpc)) {
    problems.push('embedding:existingEndpoints needs egress=endpoints in an existing VPC (embedding:vpcId)');
  }
  problems.push(...clientListProblems(c, clients));
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

/** What the list of clients cannot be: empty where callers must exist, a service twice, live services without their cluster. */
function clientListProblems(c: z.output<typeof rawSchema>, clients: readonly ClientConfig[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const client of clients) {
    if (seen.has(client.service)) problems.push(`${client.label}: the service is listed twice`);
    seen.add(client.service);
  }
  if (clients.length > 0 && c.clusterArn === undefined) {
    problems.push('embedding:clients names live ECS services: set embedding:clusterArn, the cluster they run in');
  }
  if (c.vpcId !== undefined && clients.length === 0) {
    problems.push('embedding:clients: at least one caller in an existing VPC (their security groups are the only sources admitted to the service)');
  }
  if ((c.wireClients ?? DEFAULTS.wireClients) && clients.length === 0) {
    problems.push('embedding:wireClients is true but embedding:clients lists no service to wire');
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
