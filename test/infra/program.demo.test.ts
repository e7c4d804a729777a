/**
 * The whole program with a create-everything config (fresh account, demo): only the region and the
 * image platform are set; the stack creates its VPC (awsx, one NAT gateway), cluster, namespace and
 * a `callers` security group, the only source admitted to port 8003. No client is listed: there is
 * none in a fresh account, and stage 2 stays off.
 */
import { CREATED_VPC_CIDRS, ProgramRun, runProgram, toConfigMap } from './support/harness';
import { describeDeploySafety } from './support/deploy-safety';
import { T, describeInvariants, embeddingSecurityGroupId } from './support/invariants';

const demo = toConfigMap({ 'aws:region': 'us-east-1', 'embedding:imagePlatform': 'linux/arm64' });
let run: ProgramRun;

beforeAll(async () => {
  run = await runProgram(demo, 'demo');
});

const sgId = (name: string) => run.one(T.securityGroup, name).id;

describeInvariants(() => run, {
  clientSecurityGroupIds: () => [sgId('superschedules-callers-sg')],
  publicIp: false,
  clusterArn: () => 'arn:aws:ecs:us-east-1:123456789012:cluster/superschedules',
  clusterName: 'superschedules',
  namespaceId: () => run.one(T.namespace, 'superschedules-namespace').id,
  logRetentionDays: 30,
  cpu: '512',
  memory: '1024',
  wired: false,
  desiredCount: 1,
  imagePlatform: 'linux/arm64',
});

describeDeploySafety(() => run, { vpcCidrs: CREATED_VPC_CIDRS, createdInterfaceEndpoints: [], embeddingArchitecture: 'ARM64' });

describe('demo: created infrastructure', () => {
  it('creates a VPC with DNS support and a single NAT gateway, and runs the task in its private subnets', () => {
    const vpc = run.one('awsx:ec2:Vpc', 'superschedules-vpc').inputs;
    expect(vpc).toMatchObject({ enableDnsHostnames: true, enableDnsSupport: true, natGateways: { strategy: 'Single' } });
    const subnets = run.one(T.ecsService, 'embedding-service').inputs.networkConfiguration.subnets;
    expect(subnets).toEqual([expect.stringMatching(/^subnet-/), expect.stringMatching(/^subnet-/)]);
  });

  it('creates a cluster without Container Insights (nothing needs it)', () => {
    const cluster = run.one('aws:ecs/cluster:Cluster', 'superschedules-cluster').inputs;
    expect(cluster.name).toBe('superschedules');
    expect(cluster.settings ?? []).toEqual([]);
  });

  it('creates the private DNS namespace superschedules.local in the VPC', () => {
    const ns = run.one(T.namespace, 'superschedules-namespace').inputs;
    expect(ns.name).toBe('superschedules.local');
    expect(ns.vpc).toMatch(/^vpc-/);
    expect(run.one(T.securityGroup, 'embedding-sg').inputs.vpcId).toBe(ns.vpc);
  });

  it('creates the callers security group without ingress, exported for a test task to run in', () => {
    expect(run.one(T.securityGroup, 'superschedules-callers-sg').inputs.ingress ?? []).toEqual([]);
    expect(run.outputs.callerSecurityGroupId).toBe(sgId('superschedules-callers-sg'));
  });

  it('reaches AWS through the NAT gateway: no endpoints, task egress 443 only', () => {
    expect(run.ofType(T.vpcEndpoint)).toEqual([]);
    const egress = run.ofType(T.egress).filter((r) => r.inputs.securityGroupId === embeddingSecurityGroupId(run));
    expect(egress.map((r) => r.inputs)).toEqual([expect.objectContaining({ ipProtocol: 'tcp', fromPort: 443, toPort: 443, cidrIpv4: '0.0.0.0/0' })]);
    expect(run.calls.filter((c) => c.token === 'aws:ec2/getVpc:getVpc')).toEqual([]);
  });
});
