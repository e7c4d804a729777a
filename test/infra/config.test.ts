import {
  DEFAULTS,
  StackConfigError,
  clusterNameFromArn,
  embeddingServiceUrl,
  parseStackConfig,
} from '../../infra/config';

const django = { image: 'repo/django:1' };
const chat = { image: 'repo/chat:1' };
const existing = {
  region: 'us-east-1',
  vpcId: 'vpc-0abc',
  subnetIds: ['subnet-0a', 'subnet-0b'],
  routeTableIds: ['rtb-0a'],
  clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/prod',
  namespaceId: 'ns-abc123',
  djangoSecurityGroupId: 'sg-0d',
  chatSecurityGroupId: 'sg-0c',
  egress: 'endpoints',
  django,
  chat,
};

function problemsOf(raw: Record<string, unknown>): string[] {
  try {
    parseStackConfig(raw);
  } catch (err) {
    if (err instanceof StackConfigError) return [...err.problems];
    throw err;
  }
  throw new Error('expected a StackConfigError');
}

describe('parseStackConfig', () => {
  it('applies the documented defaults to a create-everything config', () => {
    const c = parseStackConfig({ region: 'eu-west-1' });
    expect(c).toMatchObject({
      region: 'eu-west-1',
      existingNetwork: undefined,
      clusterArn: undefined,
      namespaceId: undefined,
      clientSecurityGroupIds: undefined,
      namespaceName: 'superschedules.local',
      egress: 'existing',
      cpu: 512,
      memory: 1024,
      logRetentionDays: 30,
      logLevel: 'info',
      shutdownGraceMs: 25000,
      wireClients: true,
      adotImage: DEFAULTS.adotImage,
      clients: [],
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('keeps explicit false and zero (defaults with ??, not ||)', () => {
    const c = parseStackConfig({ region: 'us-east-1', wireClients: false, shutdownGraceMs: 0, django: { ...django, desiredCount: 0 } });
    expect(c.wireClients).toBe(false);
    expect(c.shutdownGraceMs).toBe(0);
    expect(c.clients[0].desiredCount).toBe(0);
  });

  it('reads an existing-infrastructure config', () => {
    const c = parseStackConfig(existing);
    expect(c.existingNetwork).toEqual({ vpcId: 'vpc-0abc', subnetIds: ['subnet-0a', 'subnet-0b'], routeTableIds: ['rtb-0a'] });
    expect(c.clientSecurityGroupIds).toEqual({ django: 'sg-0d', chat: 'sg-0c' });
    expect(c.clients.map((k) => [k.kind, k.serviceName, k.cpu, k.memory])).toEqual([
      ['django', 'superschedules-django', 256, 512],
      ['chat', 'superschedules-chat', 256, 512],
    ]);
  });

  it('reports every problem at once', () => {
    const problems = problemsOf({ region: 'nowhere', cpu: 256, logLevel: 'verbose', logRetentionDays: 31, vpcId: 'vpc-1' });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^embedding:region: /),
        expect.stringMatching(/^embedding:logLevel: /),
        expect.stringMatching(/^embedding:logRetentionDays: /),
      ]),
    );
    expect(problems.length).toBeGreaterThanOrEqual(3);
  });

  it('never lets the embedding task go below 512 cpu / 1024 memory', () => {
    expect(problemsOf({ region: 'us-east-1', cpu: 256, memory: 512 }).join()).toMatch(/below the embedding service's minimum/);
    expect(problemsOf({ region: 'us-east-1', memory: 512 }).join()).toMatch(/memory 512 is below/);
    expect(parseStackConfig({ region: 'us-east-1', cpu: 1024, memory: 2048 })).toMatchObject({ cpu: 1024, memory: 2048 });
  });

  it('keeps the VPC-bound settings together', () => {
    expect(problemsOf({ region: 'us-east-1', vpcId: 'vpc-1' }).join()).toMatch(/vpcId and embedding:subnetIds go together/);
    expect(problemsOf({ region: 'us-east-1', namespaceId: 'ns-1' }).join()).toMatch(/namespaceId belongs to an existing VPC/);
    expect(problemsOf({ ...existing, chatSecurityGroupId: undefined }).join()).toMatch(/go together/);
    expect(problemsOf({ ...existing, routeTableIds: undefined }).join()).toMatch(/routeTableIds is required with egress=endpoints/);
  });

  it('rejects a drain deadline Fargate cannot honour', () => {
    expect(problemsOf({ region: 'us-east-1', shutdownGraceMs: 116_000 }).join()).toMatch(/above Fargate's 120s/);
  });

  it('rejects invalid client sizes, unknown client keys and a hand-set EMBEDDING_SERVICE_URL', () => {
    expect(problemsOf({ region: 'us-east-1', django: { ...django, cpu: 256, memory: 4096 } }).join()).toMatch(/embedding:django: memory 4096/);
    expect(problemsOf({ region: 'us-east-1', chat: { ...chat, imag: 'x' } }).join()).toMatch(/embedding:chat/);
    expect(problemsOf({ region: 'us-east-1', chat: { ...chat, environment: { EMBEDDING_SERVICE_URL: 'http://x' } } }).join()).toMatch(
      /set by the program/,
    );
  });
});

describe('helpers', () => {
  it('builds the Cloud Map URL', () => {
    expect(embeddingServiceUrl('superschedules.local')).toBe('http://embedding.superschedules.local:8003');
  });

  it('takes the cluster name from its ARN', () => {
    expect(clusterNameFromArn('arn:aws:ecs:us-east-1:123456789012:cluster/superschedules-prod')).toBe('superschedules-prod');
    expect(() => clusterNameFromArn('superschedules-prod')).toThrow(/not an ECS cluster ARN/);
  });
});
