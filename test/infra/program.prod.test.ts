/**
 * The whole program with the production stack file (Pulumi.prod.yaml): existing VPC (public
 * subnets, no NAT), cluster, namespace and client security groups; private egress through VPC
 * endpoints this stack creates.
 */
import { ProgramRun, runProgram, stackConfigFile } from './support/harness';
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

  it('creates interface endpoints for ecr.api, ecr.dkr, logs, xray and monitoring with private DNS', () => {
    expect(interfaces().map((e) => e.inputs.serviceName).sort()).toEqual(
      ['ecr.api', 'ecr.dkr', 'logs', 'monitoring', 'xray'].map((s) => `com.amazonaws.us-east-1.${s}`),
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

  it('the endpoints admit only 443 from the embedding task security group', () => {
    const rules = run.ofType(T.ingress).filter((r) => r.inputs.securityGroupId === endpointSg().id);
    expect(rules.map((r) => r.inputs)).toEqual([
      expect.objectContaining({ ipProtocol: 'tcp', fromPort: 443, toPort: 443, referencedSecurityGroupId: embeddingSecurityGroupId(run) }),
    ]);
  });

  it('the task lets out 443 to the endpoints and the S3 prefix list only (no CIDR)', () => {
    const egress = run.ofType(T.egress).filter((r) => r.inputs.securityGroupId === embeddingSecurityGroupId(run));
    expect(egress.map((r) => r.inputs.referencedSecurityGroupId ?? r.inputs.prefixListId).sort()).toEqual(
      [endpointSg().id, 'pl-63a5400a'].sort(),
    );
    for (const r of egress) expect(r.inputs.cidrIpv4).toBeUndefined();
  });

  it('pulls the collector through the ECR pull-through cache (ECR Public has no endpoint)', () => {
    expect(run.one('aws:ecr/pullThroughCacheRule:PullThroughCacheRule', 'private-egress-public-ecr-cache').inputs).toMatchObject({
      upstreamRegistryUrl: 'public.ecr.aws',
    });
    const collector = JSON.parse(run.one(T.taskDefinition, 'embedding-task').inputs.containerDefinitions).find(
      (c: { name: string }) => c.name === 'otel-collector',
    );
    expect(collector.image).toBe(
      '123456789012.dkr.ecr.us-east-1.amazonaws.com/ecr-public-embedding/aws-observability/aws-otel-collector:v0.45.0',
    );
  });

  it('the embedding service waits for the endpoints before its first task', () => {
    // dependsOn a component waits for each of its children.
    const endpoints = run.ofType(T.vpcEndpoint);
    expect(endpoints).toHaveLength(6);
    for (const e of endpoints) expect(embeddingService(run).dependencies).toContain(e.urn);
  });
});
