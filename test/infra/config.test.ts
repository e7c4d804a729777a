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

const clients = [
  { service: 'superschedules-django', containers: ['django'], securityGroups: ['sg-0a'] },
  { service: 'superschedules-chat', containers: ['chat'], securityGroups: ['sg-0c'] },
  { service: 'superschedules-celery-worker', containers: ['celery-worker'], securityGroups: ['sg-0a'] },
];
const existing = {
  region: 'us-east-1',
  vpcId: 'vpc-0abc',
  subnetIds: ['subnet-0a', 'subnet-0b'],
  clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/prod',
  namespaceId: 'ns-abc123',
  egress: 'public-ip',
  clients,
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
  it('applies the documented defaults to a create-everything config: stage 1, no client', () => {
    const c = parseStackConfig({ region: 'eu-west-1' });
    expect(c).toMatchObject({
      region: 'eu-west-1',
      existingNetwork: undefined,
      clusterArn: undefined,
      namespaceId: undefined,
      namespaceName: 'superschedules.local',
      egress: 'existing',
      cpu: 512,
      memory: 1024,
      logRetentionDays: 30,
      logLevel: 'info',
      shutdownGraceMs: 25000,
      wireClients: false,
      adotImage: DEFAULTS.adotImage,
      clients: [],
      clientSecurityGroupIds: [],
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('keeps explicit false and zero (defaults with ??, not ||)', () => {
    const c = parseStackConfig({ ...existing, wireClients: false, shutdownGraceMs: 0 });
    expect(c.wireClients).toBe(false);
    expect(c.shutdownGraceMs).toBe(0);
  });

  it('reads the clients as a list: labels for messages, each security group once', () => {
    const c = parseStackConfig(existing);
    expect(c.existingNetwork).toEqual({ vpcId: 'vpc-0abc', subnetIds: ['subnet-0a', 'subnet-0b'], routeTableIds: undefined });
    expect(c.clients.map((k) => [k.label, k.containers])).toEqual([
      ['embedding:clients[0] (superschedules-django)', ['django']],
      ['embedding:clients[1] (superschedules-chat)', ['chat']],
      ['embedding:clients[2] (superschedules-celery-worker)', ['celery-worker']],
    ]);
    expect(c.clientSecurityGroupIds).toEqual(['sg-0a', 'sg-0c']);
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

  it('keeps the VPC-bound settings together; an existing VPC must say how the task reaches AWS', () => {
    expect(problemsOf({ region: 'us-east-1', vpcId: 'vpc-1' }).join()).toMatch(/vpcId and embedding:subnetIds go together/);
    expect(problemsOf({ region: 'us-east-1', namespaceId: 'ns-1' }).join()).toMatch(/namespaceId belongs to an existing VPC/);
    expect(problemsOf({ ...existing, egress: undefined })).toEqual([expect.stringMatching(/^embedding:egress: required in an existing VPC \(public-ip, existing, endpoints/)]);
    expect(problemsOf({ ...existing, egress: 'endpoints' }).join()).toMatch(/routeTableIds is required with egress=endpoints/);
  });

  it('egress public-ip touches no route table and no endpoint', () => {
    expect(parseStackConfig(existing).egress).toBe('public-ip');
    expect(problemsOf({ ...existing, routeTableIds: ['rtb-0a'] }).join()).toMatch(/routeTableIds is only for egress=endpoints/);
    expect(problemsOf({ ...existing, existingEndpoints: ['logs'] }).join()).toMatch(/existingEndpoints needs egress=endpoints/);
  });

  it('rejects a drain deadline Fargate cannot honour', () => {
    expect(problemsOf({ region: 'us-east-1', shutdownGraceMs: 116_000 }).join()).toMatch(/above Fargate's 120s/);
  });

  it('alarmTopicArn must be an SNS topic ARN', () => {
    expect(parseStackConfig({ ...existing, alarmTopicArn: 'arn:aws:sns:us-east-1:123456789012:alerts' }).alarmTopicArn).toBe('arn:aws:sns:us-east-1:123456789012:alerts');
    expect(problemsOf({ ...existing, alarmTopicArn: 'arn:aws:sqs:us-east-1:123456789012:alerts' }).join()).toMatch(/embedding:alarmTopicArn: must be an SNS topic ARN/);
  });

  it('desiredCount: 1 by default, 1 to 20', () => {
    expect(parseStackConfig({ region: 'us-east-1' }).desiredCount).toBe(1);
    expect(parseStackConfig({ region: 'us-east-1', desiredCount: 3 }).desiredCount).toBe(3);
    expect(problemsOf({ region: 'us-east-1', desiredCount: 0 }).join()).toMatch(/embedding:desiredCount/);
  });

  it('existingEndpoints: only with egress=endpoints in an existing VPC; s3 reused needs no route tables', () => {
    const endpoints = { ...existing, egress: 'endpoints', routeTableIds: ['rtb-0a'] };
    expect(parseStackConfig({ ...endpoints, existingEndpoints: ['logs', 's3', 'logs'] }).existingEndpoints).toEqual(['logs', 's3']);
    expect(parseStackConfig({ ...existing, egress: 'endpoints', existingEndpoints: ['s3'] }).existingEndpoints).toEqual(['s3']);
    expect(problemsOf({ ...endpoints, existingEndpoints: ['monitoring'] }).join()).toMatch(/embedding:existingEndpoints/);
  });
});

describe('parseStackConfig: clients', () => {
  it('entries are strict: a service, at least one container and one security group, ECS names', () => {
    const bad = (entry: object) => problemsOf({ ...existing, clients: [entry] }).join('\n');
    expect(bad({ service: 'x', containers: [], securityGroups: ['sg-0a'] })).toMatch(/embedding:clients\.0\.containers/);
    expect(bad({ service: 'x', containers: ['x'], securityGroups: [] })).toMatch(/embedding:clients\.0\.securityGroups/);
    expect(bad({ service: 'x', containers: ['x'], securityGroups: ['default'] })).toMatch(/must look like sg-/);
    expect(bad({ service: 'bad name', containers: ['x'], securityGroups: ['sg-0a'] })).toMatch(/must be an ECS name/);
    expect(bad({ service: 'x', containers: ['x'], securityGroups: ['sg-0a'], image: 'x' })).toMatch(/embedding:clients\.0/);
  });

  it('a service listed twice, clients without their cluster, stage 2 with nobody to wire, an existing VPC nobody may call', () => {
    expect(problemsOf({ ...existing, clients: [clients[0], clients[0]] }).join()).toMatch(/embedding:clients\[1\] \(superschedules-django\): the service is listed twice/);
    expect(problemsOf({ region: 'us-east-1', clients }).join()).toMatch(/set embedding:clusterArn, the cluster they run in/);
    expect(problemsOf({ region: 'us-east-1', wireClients: true }).join()).toMatch(/wireClients is true but embedding:clients lists no service/);
    expect(problemsOf({ ...existing, clients: [] }).join()).toMatch(/at least one caller in an existing VPC/);
  });

  it('the retired per-client keys fail instead of being ignored', () => {
    expect(problemsOf({ ...existing, django: { image: 'x' }, chatSecurityGroupId: 'sg-0c' })).toEqual([
      expect.stringMatching(/^embedding:django: no longer read; list the live services in embedding:clients/),
      expect.stringMatching(/^embedding:chatSecurityGroupId: no longer read/),
    ]);
  });

  it('the committed Pulumi.prod.yaml is a valid stage-1 config with egress public-ip and the three callers', () => {
    const prod = yaml.load(fs.readFileSync(path.join(REPO_ROOT, 'Pulumi.prod.yaml'), 'utf8')) as { config: Record<string, unknown> };
    const raw = Object.fromEntries(Object.entries(prod.config).map(([k, v]) => [k.replace(/^(embedding|aws):/, ''), v]));
    const c = parseStackConfig(raw);
    expect(c).toMatchObject({ wireClients: false, egress: 'public-ip', existingEndpoints: [] });
    expect(c.existingNetwork?.routeTableIds).toBeUndefined();
    expect(c.clients.map((k) => k.service)).toEqual(['superschedules-django', 'superschedules-chat', 'superschedules-celery-worker']);
  });
});

describe('docs/deploy.md', () => {
  it('documents every configuration key and every client field', () => {
    const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs/deploy.md'), 'utf8');
    const table = doc.slice(doc.indexOf('### Configuration keys'), doc.indexOf('## Stage 1 and stage 2'));
    for (const key of Object.keys(rawSchema.shape)) {
      expect([key, table.includes(key === 'region' ? '`aws:region`' : `\`embedding:${key}\``) || table.includes(`\`embedding:${key}\`, `)]).toEqual([key, true]);
    }
    const clientRow = table.split('\n').find((l) => l.startsWith('| `embedding:clients`')) ?? '';
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
