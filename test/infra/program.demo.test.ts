/**
 * The whole program with a create-everything config (fresh account, demo): only the region and
 * the two clients' images are set; the stack creates its VPC (awsx, one NAT gateway), cluster,
 * namespace and client security groups.
 */
import { CREATED_VPC_CIDRS, ProgramRun, runProgram, toConfigMap } from './support/harness';
import { describeDeploySafety } from './support/deploy-safety';
import { T, describeInvariants, embeddingSecurityGroupId } from './support/invariants';

const demo = toConfigMap({
  'aws:region': 'us-east-1',
  // An ARM64 embedding image: the clients (x86 images) must stay X86_64.
  'embedding:imagePlatform': 'linux/arm64',
  'embedding:django': { image: 'public.ecr.aws/docker/library/python:3.12-slim', command: ['python', '-m', 'http.server', '8000'], port: 8000 },
  'embedding:chat': { image: 'public.ecr.aws/docker/library/python:3.12-slim', command: ['python', '-m', 'http.server', '8002'], port: 8002 },
});
let run: ProgramRun;

beforeAll(async () => {
  run = await runProgram(demo, 'demo');
});

const sgId = (name: string) => run.one(T.securityGroup, name).id;

describeInvariants(() => run, {
  clientSecurityGroupIds: () => ({ django: sgId('superschedules-django-sg'), chat: sgId('superschedules-chat-sg') }),
  clusterArn: () => 'arn:aws:ecs:us-east-1:123456789012:cluster/superschedules',
  clusterName: 'superschedules',
  namespaceId: () => run.one(T.namespace, 'superschedules-namespace').id,
  logRetentionDays: 30,
  cpu: '512',
  memory: '1024',
  wired: true,
  desiredCount: 1,
  imagePlatform: 'linux/arm64',
});

describeDeploySafety(() => run, {
  vpcCidrs: CREATED_VPC_CIDRS,
  // egress=existing: the created VPC reaches AWS through its NAT gateway; no endpoint changes its DNS.
  createdInterfaceEndpoints: [],
  clientPublicIps: { django: false, chat: false },
  stage1: false,
  embeddingArchitecture: 'ARM64',
  clientArchitectures: { django: 'X86_64', chat: 'X86_64' },
});

describe('demo: created infrastructure', () => {
  it('creates a VPC with DNS support and a single NAT gateway', () => {
    const vpc = run.one('awsx:ec2:Vpc', 'superschedules-vpc').inputs;
    expect(vpc).toMatchObject({ enableDnsHostnames: true, enableDnsSupport: true, natGateways: { strategy: 'Single' } });
  });

  it('runs every service in the private subnets of that VPC', () => {
    for (const svc of run.ofType(T.ecsService)) {
      expect(svc.inputs.networkConfiguration.subnets).toHaveLength(2);
      for (const s of svc.inputs.networkConfiguration.subnets) expect(s).toMatch(/^subnet-/);
    }
  });

  it('creates a cluster with Container Insights (the running-task alarm needs it)', () => {
    expect(run.one('aws:ecs/cluster:Cluster', 'superschedules-cluster').inputs).toMatchObject({
      name: 'superschedules',
      settings: [{ name: 'containerInsights', value: 'enabled' }],
    });
  });

  it('creates the private DNS namespace superschedules.local in the VPC', () => {
    const ns = run.one(T.namespace, 'superschedules-namespace').inputs;
    expect(ns.name).toBe('superschedules.local');
    expect(ns.vpc).toMatch(/^vpc-/);
    expect(run.one(T.securityGroup, 'embedding-sg').inputs.vpcId).toBe(ns.vpc);
  });

  it('created clients are deleted with the stack (no retainOnDelete anywhere)', () => {
    expect(run.resources.filter((r) => r.retainOnDelete).map((r) => r.name)).toEqual([]);
  });

  it('creates the Django and chat security groups, without ingress', () => {
    for (const name of ['superschedules-django-sg', 'superschedules-chat-sg']) {
      expect(run.one(T.securityGroup, name).inputs.ingress ?? []).toEqual([]);
    }
  });

  it('reaches AWS through the NAT gateway: no endpoints, task egress 443 only', () => {
    expect(run.ofType(T.vpcEndpoint)).toEqual([]);
    const egress = run.ofType(T.egress).filter((r) => r.inputs.securityGroupId === embeddingSecurityGroupId(run));
    expect(egress.map((r) => r.inputs)).toEqual([
      expect.objectContaining({ ipProtocol: 'tcp', fromPort: 443, toPort: 443, cidrIpv4: '0.0.0.0/0' }),
    ]);
    expect(run.calls.filter((c) => c.token === 'aws:ec2/getVpc:getVpc')).toEqual([]);
  });
});
