import {
  DEFAULTS,
  StackConfigError,
  clusterNameFromArn,
  embeddingServiceUrl,
  clientSchema,
  parseStackConfig,
  rawSchema,
} from '../../infra/config';
import * as fs from 'fs';
import * as path from 'path';
import { REPO_ROOT } from './support/harness';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml: { load(text: string): unknown } = require('js-yaml');

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
  django: { ...django, assignPublicIp: true },
  chat: { ...chat, assignPublicIp: true },
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

describe('parseStackConfig: issue 8', () => {
  it('requires assignPublicIp for clients in an existing VPC (no silent default that strips a public IP)', () => {
    const { django: _d, chat: _c, ...rest } = existing;
    const problems = problemsOf({ ...rest, django: { image: 'd:1' } });
    expect(problems).toEqual([expect.stringMatching(/^embedding:django\.assignPublicIp: required in an existing VPC/)]);
    expect(parseStackConfig({ region: 'us-east-1', django }).clients[0].assignPublicIp).toBe(false);
  });

  it('gives each client its own CPU architecture, X86_64 by default, whatever the image platform', () => {
    const c = parseStackConfig({ region: 'us-east-1', imagePlatform: 'linux/arm64', django, chat: { ...chat, cpuArchitecture: 'ARM64' } });
    expect(c.clients.map((k) => k.cpuArchitecture)).toEqual(['X86_64', 'ARM64']);
  });

  it('desiredCount: 1 by default, at least 1', () => {
    expect(parseStackConfig({ region: 'us-east-1' }).desiredCount).toBe(1);
    expect(parseStackConfig({ region: 'us-east-1', desiredCount: 3 }).desiredCount).toBe(3);
    expect(problemsOf({ region: 'us-east-1', desiredCount: 0 }).join()).toMatch(/embedding:desiredCount/);
  });

  it('existingEndpoints: only with egress=endpoints in an existing VPC; s3 reused needs no route tables', () => {
    expect(parseStackConfig({ ...existing, existingEndpoints: ['logs', 's3', 'logs'] }).existingEndpoints).toEqual(['logs', 's3']);
    const { routeTableIds: _r, ...noRoutes } = existing;
    expect(parseStackConfig({ ...noRoutes, existingEndpoints: ['s3'] }).existingEndpoints).toEqual(['s3']);
    expect(problemsOf({ ...noRoutes }).join()).toMatch(/routeTableIds is required/);
    expect(problemsOf({ ...existing, egress: 'existing', existingEndpoints: ['logs'] }).join()).toMatch(/existingEndpoints needs egress=endpoints/);
    expect(problemsOf({ ...existing, existingEndpoints: ['monitoring'] }).join()).toMatch(/embedding:existingEndpoints/);
  });

  it('reads what a live Django behind an ALB uses, and rejects contradictions', () => {
    const live = {
      ...django,
      port: 8000,
      assignPublicIp: true,
      taskRoleArn: 'arn:aws:iam::123456789012:role/django-task',
      secrets: { DATABASE_URL: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf' },
      healthCheck: { command: ['CMD-SHELL', 'true'], interval: 30 },
      loadBalancers: [{ targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/django/0123456789abcdef' }],
      healthCheckGracePeriodSeconds: 60,
      enableExecuteCommand: true,
      capacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1 }],
      logGroupName: '/ecs/superschedules-django',
    };
    const [c] = parseStackConfig({ ...existing, django: live, chat: undefined }).clients;
    expect(c).toMatchObject({
      loadBalancers: [{ targetGroupArn: live.loadBalancers[0].targetGroupArn, containerPort: 8000 }],
      secrets: live.secrets,
      enableExecuteCommand: true,
      retainOnDelete: true,
      logGroupName: '/ecs/superschedules-django',
    });
    expect(parseStackConfig({ region: 'us-east-1', django }).clients[0].retainOnDelete).toBe(false);
    const bad = (over: object) => problemsOf({ ...existing, django: { ...live, ...over } }).join('\n');
    expect(bad({ port: undefined })).toMatch(/containerPort \(or embedding:django.port\) is required/);
    expect(bad({ loadBalancers: [{ ...live.loadBalancers[0], containerPort: 9000 }] })).toMatch(/containerPort 9000 is not the container's port 8000/);
    expect(bad({ loadBalancers: undefined })).toMatch(/healthCheckGracePeriodSeconds: only with loadBalancers/);
    expect(bad({ environment: { DATABASE_URL: 'x' } })).toMatch(/DATABASE_URL is both in environment and in secrets/);
    expect(bad({ secrets: { EMBEDDING_SERVICE_URL: live.secrets.DATABASE_URL } })).toMatch(/set by the program/);
    expect(bad({ secrets: { X: 'plain-value' } })).toMatch(/SSM parameter or Secrets Manager secret ARN/);
    expect(bad({ capacityProviderStrategy: [{ capacityProvider: 'EC2' }] })).toMatch(/capacityProviderStrategy/);
  });

  it("the commented mirroring example in Pulumi.prod.yaml is a valid client config", () => {
    const text = fs.readFileSync(path.join(REPO_ROOT, 'Pulumi.prod.yaml'), 'utf8');
    const block = text.slice(text.indexOf('For a Django behind an ALB'));
    const lines = block.split('\n').slice(1).filter((l) => l.startsWith('    #   ')).map((l) => l.slice('    #   '.length));
    expect(lines.length).toBeGreaterThan(10);
    const example = yaml.load(lines.join('\n')) as Record<string, unknown>;
    const prod = yaml.load(text) as { config: Record<string, Record<string, unknown>> };
    const raw = Object.fromEntries(Object.entries(prod.config).map(([k, v]) => [k.replace(/^(embedding|aws):/, ''), v]));
    const c = parseStackConfig({ ...raw, django: { ...raw.django, ...example } });
    expect(c.clients[0]).toMatchObject({ enableExecuteCommand: true, loadBalancers: [expect.objectContaining({ containerPort: 8000 })] });
  });
});

describe('docs/deploy.md', () => {
  it('documents every configuration key and every client field', () => {
    const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs/deploy.md'), 'utf8');
    const table = doc.slice(doc.indexOf('### Configuration keys'), doc.indexOf('## Stage 1 and stage 2'));
    for (const key of Object.keys(rawSchema.shape)) {
      expect([key, table.includes(key === 'region' ? '`aws:region`' : `\`embedding:${key}\``) || table.includes(`\`embedding:${key}\`, `)]).toEqual([key, true]);
    }
    const clientRow = table.split('\n').find((l) => l.startsWith('| `embedding:django`')) ?? '';
    for (const field of Object.keys(clientSchema.shape)) expect([field, clientRow.includes(`\`${field}\``)]).toEqual([field, true]);
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
