import {
  inferenceThreads,
  clientContainer,
  embeddingContainers,
  healthCheckCommand,
} from '../../infra/containers';
import { insightsQueries } from '../../infra/observability';
import { execFileSync } from 'child_process';

const params = {
  image: 'acct.dkr.ecr.us-east-1.amazonaws.com/embedding-service@sha256:abc',
  collectorImage: '123456789012.dkr.ecr.us-east-1.amazonaws.com/embedding-service/otel-collector@sha256:abc',
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
  it('is a node one-liner on /health; it fails (exit 1) when nothing listens', () => {
    const [cmd, node, flag, script] = healthCheckCommand(8003);
    expect([cmd, node, flag]).toEqual(['CMD', 'node', '-e']);
    expect(script).toContain("+'/health')");
    expect(() =>
      execFileSync(process.execPath, ['-e', healthCheckCommand(1)[3]], { env: { PATH: process.env.PATH }, stdio: 'ignore', timeout: 10_000 }),
    ).toThrow();
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

  it('mirrors secrets and the container health check; adds neither when the live service has none', () => {
    const c = clientContainer({
      ...base,
      secrets: { Z_KEY: 'arn:aws:ssm:us-east-1:123456789012:parameter/z', A_DB: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf' },
      healthCheck: { command: ['CMD-SHELL', 'true'], interval: 15 },
    });
    expect(c.secrets).toEqual([
      { name: 'A_DB', valueFrom: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf' },
      { name: 'Z_KEY', valueFrom: 'arn:aws:ssm:us-east-1:123456789012:parameter/z' },
    ]);
    expect(c.healthCheck).toEqual({ command: ['CMD-SHELL', 'true'], interval: 15 });
    expect(clientContainer(base)).not.toHaveProperty('secrets');
    expect(clientContainer(base)).not.toHaveProperty('healthCheck');
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
