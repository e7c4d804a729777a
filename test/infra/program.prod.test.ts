/**
 * The whole program with the production stack file (Pulumi.prod.yaml): existing VPC (public
 * subnets, no NAT), cluster, namespace and client security groups; private egress through VPC
 * endpoints this stack creates.
 */
import { ProgramRun, S3_PREFIX_LIST_ID, VPC_CIDRS, runProgram, stackConfigFile } from './support/harness';
import { describeDeploySafety } from './support/deploy-safety';
import { T, describeInvariants, embeddingSecurityGroupId, embeddingService } from './support/invariants';

const prod = stackConfigFile('prod');
let run: ProgramRun;

beforeAll(async () => {
  run = await runProgram(prod, 'prod');
});

describeInvariants(() => run, {
  clientSecurityGroupIds: () => ({ django: prod['embedding:djangoSecurityGroupId'], chat: prod['embedding:chatSecurityGroupId'] }),
  clusterArn: () => prod['embedding:clusterArn'],
  clusterName: 'superschedules-prod',
  namespaceId: () => prod['embedding:namespaceId'],
  logRetentionDays: 30,
  cpu: '512',
  memory: '1024',
  wired: true,
  desiredCount: 1,
  imagePlatform: 'linux/amd64',
});

describeDeploySafety(() => run, {
  vpcCidrs: VPC_CIDRS[prod['embedding:vpcId']],
  createdInterfaceEndpoints: ['ecr.api', 'ecr.dkr', 'logs', 'xray'],
  clientPublicIps: { django: true, chat: true },
  stage1: false,
  embeddingArchitecture: 'X86_64',
  clientArchitectures: { django: 'X86_64', chat: 'X86_64' },
});

describe('prod: existing infrastructure', () => {
  it('creates no VPC, cluster, namespace or client security group', () => {
    expect(run.ofType('awsx:ec2:Vpc')).toEqual([]);
    expect(run.ofType('aws:ecs/cluster:Cluster')).toEqual([]);
    expect(run.ofType(T.namespace)).toEqual([]);
    expect(run.ofType(T.securityGroup).map((s) => s.name).sort()).toEqual(['embedding-sg', 'private-egress-sg']);
  });

  it('runs every service in the configured subnets', () => {
    const subnets = JSON.parse(prod['embedding:subnetIds']);
    for (const svc of run.ofType(T.ecsService)) expect(svc.inputs.networkConfiguration.subnets).toEqual(subnets);
  });
});

describe('prod: private egress through VPC endpoints', () => {
  const interfaces = () => run.ofType(T.vpcEndpoint).filter((e) => e.inputs.vpcEndpointType === 'Interface');
  const endpointSg = () => run.one(T.securityGroup, 'private-egress-sg');
  const vpcCidrList = () => run.one('aws:ec2/managedPrefixList:ManagedPrefixList', 'private-egress-vpc-cidrs');

  it('creates interface endpoints for ecr.api, ecr.dkr, logs and xray with private DNS (no monitoring: nothing calls PutMetricData)', () => {
    expect(interfaces().map((e) => e.inputs.serviceName).sort()).toEqual(
      ['ecr.api', 'ecr.dkr', 'logs', 'xray'].map((s) => `com.amazonaws.us-east-1.${s}`),
    );
    for (const e of interfaces()) {
      expect(e.inputs).toMatchObject({ vpcId: prod['embedding:vpcId'], privateDnsEnabled: true, securityGroupIds: [endpointSg().id] });
      expect(e.inputs.subnetIds).toEqual(JSON.parse(prod['embedding:subnetIds']));
    }
  });

  it('creates the S3 gateway endpoint on the configured route tables', () => {
    const s3 = run.one(T.vpcEndpoint, 'private-egress-s3').inputs;
    expect(s3).toMatchObject({ serviceName: 'com.amazonaws.us-east-1.s3', vpcEndpointType: 'Gateway' });
    expect(s3.routeTableIds).toEqual(JSON.parse(prod['embedding:routeTableIds']));
  });

  it("reads the VPC's CIDR blocks (getVpc) into a prefix list, and the endpoints admit exactly 443 from it", () => {
    expect(run.calls.filter((c) => c.token === 'aws:ec2/getVpc:getVpc').map((c) => c.inputs.id)).toEqual([prod['embedding:vpcId']]);
    expect(vpcCidrList().inputs).toMatchObject({ addressFamily: 'IPv4', maxEntries: 5 });
    expect(vpcCidrList().inputs.entries.map((e: { cidr: string }) => e.cidr)).toEqual(VPC_CIDRS[prod['embedding:vpcId']]);
    const rules = run.ofType(T.ingress).filter((r) => r.inputs.securityGroupId === endpointSg().id);
    expect(rules.map((r) => r.inputs)).toEqual([
      expect.objectContaining({ ipProtocol: 'tcp', fromPort: 443, toPort: 443, prefixListId: vpcCidrList().id }),
    ]);
  });

  it('the ingress rule exists before any interface endpoint turns on private DNS', () => {
    const rule = run.one(T.ingress, 'private-egress-https-from-vpc');
    for (const e of interfaces()) expect(e.dependencies).toContain(rule.urn);
  });

  it('the task lets out 443 to the VPC (where the endpoints are) and the S3 prefix list only (no CIDR)', () => {
    const egress = run.ofType(T.egress).filter((r) => r.inputs.securityGroupId === embeddingSecurityGroupId(run));
    expect(egress.map((r) => r.inputs.prefixListId).sort()).toEqual([vpcCidrList().id, S3_PREFIX_LIST_ID].sort());
    for (const r of egress) expect(r.inputs.cidrIpv4).toBeUndefined();
  });

  it('the embedding service waits for the endpoints before its first task', () => {
    // dependsOn a component waits for each of its children.
    const endpoints = run.ofType(T.vpcEndpoint);
    expect(endpoints).toHaveLength(5);
    for (const e of endpoints) expect(embeddingService(run).dependencies).toContain(e.urn);
  });
});

describe('prod: checks against the live account', () => {
  it('checks that namespaceName is the name of namespaceId', () => {
    expect(run.calls.filter((c) => c.token === 'aws:servicediscovery/getDnsNamespace:getDnsNamespace').map((c) => c.inputs)).toEqual([
      expect.objectContaining({ name: 'superschedules.local', type: 'DNS_PRIVATE' }),
    ]);
  });

  it('checks that the existing cluster has Container Insights (the running-task alarm reads it)', () => {
    expect(run.calls.filter((c) => c.token === 'aws:ecs/getCluster:getCluster').map((c) => c.inputs.clusterName)).toEqual(['superschedules-prod']);
  });

  it('adopted production clients are retained, never deleted, when they leave the stack (destroy, back to stage 1)', () => {
    const clientResources = run.resources.filter((r) => r.custom && r.parent.includes('::superschedules:embedding:ClientService::'));
    expect(clientResources.map((r) => r.name).sort()).toEqual(
      ['chat', 'django'].flatMap((k) => [`${k}-execution-policy`, `${k}-execution-role`, `${k}-logs`, `${k}-service`, `${k}-task`]).sort(),
    );
    for (const r of clientResources) expect([r.name, r.retainOnDelete]).toEqual([r.name, true]);
    expect(run.resources.filter((r) => r.retainOnDelete && !clientResources.includes(r))).toEqual([]);
  });
});
