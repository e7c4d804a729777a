/**
 * The whole program with the production stack file as committed (Pulumi.prod.yaml): stage 1,
 * egress public-ip, in the production account as the mocks answer it (three live clients, two of
 * them sharing a security group, rich task definitions, shared route tables, Container Insights off).
 */
import { ProgramRun, runProgram, stackConfigFile } from './support/harness';
import { describeDeploySafety } from './support/deploy-safety';
import { T, describeInvariants, productionExpectations, embeddingSecurityGroupId } from './support/invariants';
import { APP_SG, CELERY, CHAT, CHAT_SG, CLUSTER_ARN, DJANGO } from './support/live-account';

const prod = stackConfigFile('prod');
let run: ProgramRun;

beforeAll(async () => {
  run = await runProgram(prod, 'prod');
});

describeInvariants(() => run, productionExpectations(prod));

describeDeploySafety(() => run, {
  vpcCidrs: [],
  createdInterfaceEndpoints: [],
  embeddingArchitecture: 'X86_64',
});

describe('prod: the committed stack file', () => {
  it('is stage 1 and egress public-ip', () => {
    expect(prod['embedding:wireClients']).toBe('false');
    expect(prod['embedding:egress']).toBe('public-ip');
    expect(run.error).toBeUndefined();
  });

  it('creates no VPC, cluster or namespace, and no security group but the embedding task\'s', () => {
    expect(run.ofType('awsx:ec2:Vpc')).toEqual([]);
    expect(run.ofType('aws:ecs/cluster:Cluster')).toEqual([]);
    expect(run.ofType(T.namespace)).toEqual([]);
    expect(run.ofType(T.securityGroup).map((s) => s.name)).toEqual(['embedding-sg']);
  });

  it('no VPC endpoint, route, route table or prefix list, and reads no route table', () => {
    const types = run.resources.map((r) => r.type);
    expect(types.filter((t) => /^aws:ec2\/(vpcEndpoint|route|routeTable|routeTableAssociation|managedPrefixList)/.test(t))).toEqual([]);
    expect(run.calls.filter((c) => /getRouteTables|getVpcEndpoint|getPrefixList/.test(c.token))).toEqual([]);
  });

  it('the task gets a public IP in the configured public subnets and sends HTTPS only; nothing reaches it but the clients on 8003', () => {
    const svc = run.one(T.ecsService, 'embedding-service').inputs;
    expect(svc.networkConfiguration).toEqual({ subnets: JSON.parse(prod['embedding:subnetIds']), securityGroups: [embeddingSecurityGroupId(run)], assignPublicIp: true });
    const egress = run.ofType(T.egress).filter((r) => r.inputs.securityGroupId === embeddingSecurityGroupId(run));
    expect(egress.map((r) => r.inputs)).toEqual([expect.objectContaining({ ipProtocol: 'tcp', fromPort: 443, toPort: 443, cidrIpv4: '0.0.0.0/0' })]);
    const ingress = run.ofType(T.ingress).filter((r) => r.inputs.securityGroupId === embeddingSecurityGroupId(run));
    // Django and the Celery workers share APP_SG: one rule for it.
    expect(ingress.map((r) => r.inputs.referencedSecurityGroupId)).toEqual([APP_SG, CHAT_SG]);
  });

  it('needs no Container Insights: the cluster (which has it off) is not even read', () => {
    expect(run.calls.filter((c) => c.token === 'aws:ecs/getCluster:getCluster')).toEqual([]);
    expect(JSON.stringify(run.ofType(T.alarm).map((a) => a.inputs))).not.toMatch(/ContainerInsights/);
  });
});

describe('prod: the clients are read, never declared', () => {
  it('reads each listed service and the task definition it runs, in the configured cluster', () => {
    expect(run.calls.filter((c) => c.token === 'aws:ecs/getService:getService').map((c) => [c.inputs.clusterArn, c.inputs.serviceName])).toEqual([
      [CLUSTER_ARN, 'superschedules-django'],
      [CLUSTER_ARN, 'superschedules-chat'],
      [CLUSTER_ARN, 'superschedules-celery-worker'],
    ]);
    expect(run.calls.filter((c) => c.token === 'aws:ecs/getTaskDefinition:getTaskDefinition').map((c) => c.inputs.taskDefinition).sort()).toEqual(
      [CELERY, CHAT, DJANGO].map((d) => d.taskDefinition.taskDefinitionArn),
    );
  });

  it('exports the task definition each client runs now (to record before stage 2)', () => {
    expect(run.outputs.clientTaskDefinitions).toEqual({
      'superschedules-django': DJANGO.taskDefinition.taskDefinitionArn,
      'superschedules-chat': CHAT.taskDefinition.taskDefinitionArn,
      'superschedules-celery-worker': CELERY.taskDefinition.taskDefinitionArn,
    });
  });

  it('declares nothing of a client: no service, task definition, log group, role, variable, import or retained resource', () => {
    const own = /^(embedding|otel-collector|superschedules)(-|$)/;
    expect(run.resources.filter((r) => r.custom && !own.test(r.name)).map((r) => `${r.type} ${r.name}`)).toEqual([]);
    expect(run.ofType(T.serviceVariable)).toEqual([]);
    expect(run.resources.filter((r) => r.retainOnDelete)).toEqual([]);
  });

  it('checks that namespaceName is the name of namespaceId', () => {
    expect(run.calls.filter((c) => c.token === 'aws:servicediscovery/getDnsNamespace:getDnsNamespace').map((c) => c.inputs)).toEqual([
      expect.objectContaining({ name: 'superschedules.local', type: 'DNS_PRIVATE' }),
    ]);
  });
});
