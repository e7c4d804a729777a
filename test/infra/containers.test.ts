import {
  inferenceThreads,
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

describe('insightsQueries', () => {
  it('use the fields the app logs', () => {
    const q = insightsQueries(750);
    expect(q.errors).toMatch(/filter level = "error" or status >= 500/);
    expect(q['slow-requests']).toMatch(/duration_ms >= 750/);
    expect(q.trace).toMatch(/filter trace_id = "REPLACE_WITH_TRACE_ID"/);
  });
});
