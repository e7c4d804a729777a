import {
  inferenceThreads,
  clientContainer,
  collectorConfig,
  embeddingContainers,
  healthCheckCommand,
  pullThroughImage,
} from '../../infra/containers';
import { insightsQueries } from '../../infra/observability';
import { execFileSync } from 'child_process';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml: { load(text: string): unknown } = require('js-yaml');

const params = {
  image: 'acct.dkr.ecr.us-east-1.amazonaws.com/embedding-service@sha256:abc',
  collectorImage: 'public.ecr.aws/aws-observability/aws-otel-collector:v0.45.0',
  collectorConfig: 'receivers: {}',
  region: 'us-east-1',
  logGroupName: '/ecs/embedding-service',
  port: 8003,
  logLevel: 'debug',
  serviceName: 'embedding-service',
  shutdownGraceMs: 25000,
  stopTimeout: 30,
  taskCpu: 2048,
};

describe('embeddingContainers', () => {
  it('defines the app and the collector sidecar', () => {
    const [app, collector] = embeddingContainers(params);
    expect(app.name).toBe('embedding');
    expect(app.image).toBe(params.image);
    expect(app.environment).toContainEqual({ name: 'LOG_LEVEL', value: 'debug' });
    expect(app.environment).toContainEqual({ name: 'ORT_INTRA_OP_THREADS', value: '2' });
    expect(collector).toMatchObject({ name: 'otel-collector', image: params.collectorImage, essential: false });
    expect(collector.environment).toEqual([{ name: 'AOT_CONFIG_CONTENT', value: 'receivers: {}' }]);
  });
});

describe('inferenceThreads', () => {
  it('gives one intra-op thread per whole vCPU, at least one', () => {
    expect([256, 512, 1024, 1536, 2048, 4096].map(inferenceThreads)).toEqual([1, 1, 1, 1, 2, 4]);
  });
});

describe('healthCheckCommand', () => {
  it('is a node one-liner that exits 0 only on HTTP 200', () => {
    const [cmd, node, flag, script] = healthCheckCommand(8003);
    expect([cmd, node, flag]).toEqual(['CMD', 'node', '-e']);
    expect(script).toContain("fetch('http://127.0.0.1:8003/health')");
    // The script is valid JavaScript and fails (exit 1) when nothing listens.
    expect(() => execFileSync(process.execPath, ['-e', healthCheckCommand(1)[3]], { stdio: 'ignore', timeout: 10_000 })).toThrow();
  });
});

describe('collectorConfig', () => {
  it('is YAML routing OTLP traces to X-Ray and metrics to CloudWatch (EMF)', () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const doc = yaml.load(
      collectorConfig({ region: 'us-east-1', metricsNamespace: 'NS', metricsLogGroupName: '/ecs/x/otel-metrics' }),
    ) as any;
    expect(doc.receivers.otlp.protocols.http.endpoint).toBe('127.0.0.1:4318');
    expect(doc.receivers.otlp.protocols.grpc).toBeUndefined();
    expect(doc.exporters.awsxray.region).toBe('us-east-1');
    expect(doc.exporters.awsemf).toMatchObject({ namespace: 'NS', log_group_name: '/ecs/x/otel-metrics' });
    expect(doc.service.pipelines.traces.exporters).toEqual(['awsxray']);
    expect(doc.service.pipelines.metrics.exporters).toEqual(['awsemf']);
  });
});

describe('clientContainer', () => {
  const base = { name: 'django', image: 'd:1', environment: { A: '1' }, region: 'us-east-1', logGroupName: '/ecs/d' };

  it('adds EMBEDDING_SERVICE_URL only when wired', () => {
    expect(clientContainer(base).environment).toEqual([{ name: 'A', value: '1' }]);
    expect(clientContainer({ ...base, embeddingServiceUrl: 'http://embedding.superschedules.local:8003' }).environment).toEqual([
      { name: 'A', value: '1' },
      { name: 'EMBEDDING_SERVICE_URL', value: 'http://embedding.superschedules.local:8003' },
    ]);
  });

  it('keeps the client command and port', () => {
    const c = clientContainer({ ...base, command: ['gunicorn'], port: 8000 });
    expect(c.command).toEqual(['gunicorn']);
    expect(c.portMappings).toEqual([{ containerPort: 8000, hostPort: 8000, protocol: 'tcp' }]);
  });
});

describe('pullThroughImage', () => {
  it('rewrites public.ecr.aws images to the pull-through cache and leaves others alone', () => {
    expect(pullThroughImage('public.ecr.aws/aws-observability/aws-otel-collector:v1', '123', 'us-east-1', 'pfx')).toBe(
      '123.dkr.ecr.us-east-1.amazonaws.com/pfx/aws-observability/aws-otel-collector:v1',
    );
    expect(pullThroughImage('otel/collector:1', '123', 'us-east-1', 'pfx')).toBe('otel/collector:1');
  });
});

describe('insightsQueries', () => {
  it('use the fields the app logs', () => {
    const q = insightsQueries(750);
    expect(q.errors).toMatch(/filter level = "error" or status >= 500/);
    expect(q['slow-requests']).toMatch(/duration_ms >= 750/);
    expect(q.trace).toMatch(/filter trace_id = "REPLACE_WITH_TRACE_ID"/);
  });
});
