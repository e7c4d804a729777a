/**
 * Pure builders for ECS container definitions and the ADOT collector configuration.
 * Plain values in, plain JSON-able objects out: the components serialize them once their inputs
 * (image URIs, log group names) resolve. Tested without mocks.
 */
import { EXPORTED_METRICS, exactNameSelector } from './metrics';

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
  secrets?: { name: string; valueFrom: string }[];
  healthCheck?: { command: string[]; interval?: number; timeout?: number; retries?: number; startPeriod?: number };
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
/** Non-root: the `node` user (uid/gid 1000) of the node base image, also set by the Dockerfile. */
export const APP_USER = '1000:1000';

/**
 * Container health check: GET /health with Node's fetch (the image has no curl), where the server
 * listens: HOST itself, or loopback when HOST is a wildcard (0.0.0.0, ::), on PORT, else `port`.
 * The Dockerfile's HEALTHCHECK is this command for port 8003 (a test compares them).
 */
export function healthCheckCommand(port: number): string[] {
  const script =
    "const h=process.env.HOST||'0.0.0.0';" +
    "const a=h==='0.0.0.0'?'127.0.0.1':h==='::'?'[::1]':h.includes(':')?'['+h+']':h;" +
    `fetch('http://'+a+':'+(process.env.PORT||${port})+'/health')` +
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
  /** AOT_CONFIG_CONTENT: the serialized collectorConfig(). */
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
 * The app container (one Node process, read-only root fs, health check on /health) and the ADOT
 * collector sidecar: traces from the app over loopback, metrics scraped from the app's /metrics.
 * No /tmp mount: the app writes nothing at run time (the model is in the image, so no download;
 * onnxruntime's telemetry, which would write under ~/.cache and /tmp, is off). The environment
 * repeats the image's (a test compares them), so the task runs the same whatever the image sets.
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
      MODEL_AUTO_DOWNLOAD: 'false',
      ORT_DISABLE_TELEMETRY: '1',
      LOG_LEVEL: p.logLevel,
      SHUTDOWN_GRACE_MS: String(p.shutdownGraceMs),
      ORT_INTRA_OP_THREADS: String(inferenceThreads(p.taskCpu)),
      OTEL_EXPORTER_OTLP_ENDPOINT: OTLP_HTTP_ENDPOINT,
      // Metrics reach CloudWatch through the collector's scrape of /metrics, never twice.
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_SERVICE_NAME: p.serviceName,
    }),
    healthCheck: { command: healthCheckCommand(p.port), ...HEALTH_CHECK_TIMING },
    logConfiguration: awslogs(p.logGroupName, p.region, 'embedding'),
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
  /** The app's port: the collector scrapes `127.0.0.1:<port>/metrics`. */
  readonly appPort: number;
}

/** How often the collector scrapes the app's `/metrics`. */
export const SCRAPE_INTERVAL_SECONDS = 15;

/**
 * ADOT collector configuration (passed as AOT_CONFIG_CONTENT, JSON being YAML):
 * - traces: OTLP/HTTP on loopback in, X-Ray out;
 * - metrics: the Prometheus receiver scrapes the app's `/metrics` over loopback, cumulative
 *   counters and histograms become per-scrape deltas (awsemf would otherwise publish a histogram's
 *   running totals), and awsemf writes EMF into the metrics log group, which CloudWatch turns into
 *   metrics in `metricsNamespace` with exactly the dimensions of EXPORTED_METRICS.
 * The app's own OTLP metrics are off (OTEL_METRICS_EXPORTER=none), so nothing is counted twice.
 * Component names and options: ADOT v0.49.0 (pkg/defaultcomponents; awsemfexporter README).
 */
export function collectorConfig(p: CollectorConfigParams): CollectorConfig {
  return {
    extensions: { health_check: {} },
    receivers: {
      otlp: { protocols: { http: { endpoint: OTLP_HTTP_ENDPOINT.replace(/^http:\/\//, '') } } },
      prometheus: {
        config: {
          scrape_configs: [
            {
              job_name: 'embedding-service',
              scrape_interval: `${SCRAPE_INTERVAL_SECONDS}s`,
              scrape_timeout: '10s',
              metrics_path: '/metrics',
              static_configs: [{ targets: [`127.0.0.1:${p.appPort}`] }],
            },
          ],
        },
      },
    },
    processors: {
      'batch/traces': { timeout: '1s', send_batch_size: 50 },
      // The collector lives and dies with the task's app: `auto` drops a series' first point (its
      // running total so far) instead of publishing it as one huge delta after a collector restart.
      cumulativetodelta: { initial_value: 'auto' },
      'batch/metrics': { timeout: '60s' },
    },
    exporters: {
      awsxray: { region: p.region },
      awsemf: {
        region: p.region,
        namespace: p.metricsNamespace,
        log_group_name: p.metricsLogGroupName,
        log_stream_name: 'embedding-service',
        // Only the declared dimension sets: no roll-ups (which would add the OTelLib label).
        dimension_rollup_option: 'NoDimensionRollup',
        metric_declarations: EXPORTED_METRICS.map((m) => ({
          dimensions: m.dimensions.map((set) => [...set]),
          metric_name_selectors: [exactNameSelector(m.name)],
        })),
      },
    },
    service: {
      extensions: ['health_check'],
      pipelines: {
        traces: { receivers: ['otlp'], processors: ['batch/traces'], exporters: ['awsxray'] },
        metrics: { receivers: ['prometheus'], processors: ['cumulativetodelta', 'batch/metrics'], exporters: ['awsemf'] },
      },
    },
  };
}

/** The collector configuration's shape: component sections by `type[/name]`, and the service. */
export interface CollectorConfig {
  readonly extensions: Record<string, unknown>;
  readonly receivers: Record<string, unknown>;
  readonly processors: Record<string, unknown>;
  readonly exporters: Record<string, unknown>;
  readonly service: {
    readonly extensions: string[];
    readonly pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }>;
  };
}
