/**
 * Pure builders for ECS container definitions and the ADOT collector configuration.
 * Plain values in, plain JSON-able objects out: the components serialize them once their inputs
 * (image URIs, log group names) resolve. Tested without mocks.
 */

/** The subset of an ECS container definition this program writes. */
export interface ContainerDefinition {
  name: string;
  image: string;
  essential: boolean;
  command?: string[];
  cpu?: number;
  memory?: number;
  memoryReservation?: number;
  user?: string;
  readonlyRootFilesystem?: boolean;
  stopTimeout?: number;
  portMappings?: { containerPort: number; hostPort?: number; protocol: 'tcp'; name?: string }[];
  environment?: { name: string; value: string }[];
  healthCheck?: { command: string[]; interval: number; timeout: number; retries: number; startPeriod: number };
  logConfiguration?: { logDriver: 'awslogs'; options: Record<string, string> };
  mountPoints?: { sourceVolume: string; containerPath: string; readOnly: boolean }[];
  dependsOn?: { containerName: string; condition: 'START' | 'HEALTHY' | 'COMPLETE' | 'SUCCESS' }[];
  linuxParameters?: { initProcessEnabled?: boolean };
}

export const APP_CONTAINER = 'embedding';
export const COLLECTOR_CONTAINER = 'otel-collector';
export const MODEL_DIR = '/app/models/all-MiniLM-L6-v2';
/** The collector's OTLP/HTTP receiver, bound to loopback: only containers of the task reach it. */
export const OTLP_HTTP_ENDPOINT = 'http://127.0.0.1:4318';
/** Non-root: the `node` user (uid/gid 1000) of the node:20 base image, also set by the Dockerfile. */
export const APP_USER = '1000:1000';
export const TMP_VOLUME = 'tmp';

/** Container health check: GET /health with Node's fetch (the image has no curl). */
export function healthCheckCommand(port: number): string[] {
  const script =
    `fetch('http://127.0.0.1:${port}/health')` +
    '.then((r)=>process.exit(r.status===200?0:1)).catch(()=>process.exit(1))';
  return ['CMD', 'node', '-e', script];
}

export const HEALTH_CHECK_TIMING = Object.freeze({ interval: 30, timeout: 10, retries: 3, startPeriod: 30 });

function awslogs(group: string, region: string, prefix: string): ContainerDefinition['logConfiguration'] {
  return {
    logDriver: 'awslogs',
    options: { 'awslogs-group': group, 'awslogs-region': region, 'awslogs-stream-prefix': prefix },
  };
}

function env(vars: Record<string, string>): { name: string; value: string }[] {
  return Object.entries(vars)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => ({ name, value }));
}

export interface EmbeddingContainersParams {
  readonly image: string;
  readonly collectorImage: string;
  readonly collectorConfig: string;
  readonly region: string;
  readonly logGroupName: string;
  readonly port: number;
  readonly logLevel: string;
  readonly serviceName: string;
  readonly shutdownGraceMs: number;
  readonly stopTimeout: number;
  /** Task CPU units (1024 = 1 vCPU): onnxruntime gets one intra-op thread per whole vCPU, at least one. */
  readonly taskCpu: number;
}

/** Intra-op threads for a task of this many CPU units; more threads than vCPUs only contend. */
export function inferenceThreads(taskCpu: number): number {
  return Math.max(1, Math.floor(taskCpu / 1024));
}

/**
 * The app container (one Node process, read-only root fs, /tmp on a task volume, health check on
 * /health) and the ADOT collector sidecar it exports traces to over loopback.
 */
export function embeddingContainers(p: EmbeddingContainersParams): ContainerDefinition[] {
  const app: ContainerDefinition = {
    name: APP_CONTAINER,
    image: p.image,
    essential: true,
    user: APP_USER,
    readonlyRootFilesystem: true,
    stopTimeout: p.stopTimeout,
    portMappings: [{ containerPort: p.port, hostPort: p.port, protocol: 'tcp', name: 'http' }],
    environment: env({
      NODE_ENV: 'production',
      PORT: String(p.port),
      EMBEDDING_MODEL_DIR: MODEL_DIR,
      LOG_LEVEL: p.logLevel,
      SHUTDOWN_GRACE_MS: String(p.shutdownGraceMs),
      ORT_INTRA_OP_THREADS: String(inferenceThreads(p.taskCpu)),
      OTEL_EXPORTER_OTLP_ENDPOINT: OTLP_HTTP_ENDPOINT,
      OTEL_SERVICE_NAME: p.serviceName,
    }),
    healthCheck: { command: healthCheckCommand(p.port), ...HEALTH_CHECK_TIMING },
    logConfiguration: awslogs(p.logGroupName, p.region, 'embedding'),
    // Node and its libraries may use os.tmpdir(); the root filesystem is read-only.
    mountPoints: [{ sourceVolume: TMP_VOLUME, containerPath: '/tmp', readOnly: false }],
    dependsOn: [{ containerName: COLLECTOR_CONTAINER, condition: 'START' }],
    linuxParameters: { initProcessEnabled: true },
  };
  const collector: ContainerDefinition = {
    name: COLLECTOR_CONTAINER,
    image: p.collectorImage,
    // Losing telemetry must not take the service down: the task keeps serving if the collector exits.
    essential: false,
    memoryReservation: 64,
    memory: 192,
    stopTimeout: p.stopTimeout,
    environment: env({ AOT_CONFIG_CONTENT: p.collectorConfig }),
    logConfiguration: awslogs(p.logGroupName, p.region, 'otel'),
  };
  return [app, collector];
}

export interface CollectorConfigParams {
  readonly region: string;
  readonly metricsNamespace: string;
  readonly metricsLogGroupName: string;
}

/**
 * ADOT collector configuration (passed as AOT_CONFIG_CONTENT): OTLP/HTTP on loopback in, traces to
 * X-Ray, metrics to CloudWatch (embedded metric format into a dedicated log group).
 */
export function collectorConfig(p: CollectorConfigParams): string {
  return [
    'extensions:',
    '  health_check: {}',
    'receivers:',
    '  otlp:',
    '    protocols:',
    '      http:',
    '        endpoint: 127.0.0.1:4318',
    'processors:',
    '  batch/traces:',
    '    timeout: 1s',
    '    send_batch_size: 50',
    '  batch/metrics:',
    '    timeout: 60s',
    'exporters:',
    '  awsxray:',
    `    region: ${p.region}`,
    '  awsemf:',
    `    region: ${p.region}`,
    `    namespace: ${p.metricsNamespace}`,
    `    log_group_name: ${p.metricsLogGroupName}`,
    'service:',
    '  extensions: [health_check]',
    '  pipelines:',
    '    traces:',
    '      receivers: [otlp]',
    '      processors: [batch/traces]',
    '      exporters: [awsxray]',
    '    metrics:',
    '      receivers: [otlp]',
    '      processors: [batch/metrics]',
    '      exporters: [awsemf]',
    '',
  ].join('\n');
}

export interface ClientContainerParams {
  readonly name: string;
  readonly image: string;
  readonly command?: readonly string[];
  readonly port?: number;
  readonly environment: Readonly<Record<string, string>>;
  /** Set only when the clients are wired to the embedding service. */
  readonly embeddingServiceUrl?: string;
  readonly region: string;
  readonly logGroupName: string;
}

/** A Django or chat container: its own image/command/env, plus EMBEDDING_SERVICE_URL when wired. */
export function clientContainer(p: ClientContainerParams): ContainerDefinition {
  const vars: Record<string, string> = { ...p.environment };
  if (p.embeddingServiceUrl !== undefined) vars.EMBEDDING_SERVICE_URL = p.embeddingServiceUrl;
  return {
    name: p.name,
    image: p.image,
    essential: true,
    ...(p.command !== undefined ? { command: [...p.command] } : {}),
    ...(p.port !== undefined ? { portMappings: [{ containerPort: p.port, hostPort: p.port, protocol: 'tcp' as const }] } : {}),
    environment: env(vars),
    logConfiguration: awslogs(p.logGroupName, p.region, p.name),
  };
}

/**
 * `public.ecr.aws/aws-observability/aws-otel-collector:v1` → the same image through this account's
 * ECR pull-through cache (`<registry>.dkr.ecr.<region>.amazonaws.com/<prefix>/aws-observability/…`),
 * reachable over the ECR VPC endpoints when the task has no route to the internet.
 */
export function pullThroughImage(publicImage: string, registryId: string, region: string, prefix: string): string {
  const upstream = 'public.ecr.aws/';
  if (!publicImage.startsWith(upstream)) return publicImage;
  return `${registryId}.dkr.ecr.${region}.amazonaws.com/${prefix}/${publicImage.slice(upstream.length)}`;
}
