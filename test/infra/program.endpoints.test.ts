/**
 * egress=endpoints, for a VPC whose task subnets are private without NAT: the production config
 * with interface endpoints the stack creates (ecr.api, ecr.dkr, xray), one it reuses (logs), the S3
 * gateway endpoint on the task subnets' route tables; three embedding tasks and an alarm topic.
 * Endpoints change DNS for the whole VPC: they admit HTTPS from every CIDR block of it.
 */
import { ProgramRun, S3_PREFIX_LIST_ID, VPC_CIDRS, runProgram, stackConfigFile, toConfigMap } from './support/harness';
import { describeDeploySafety } from './support/deploy-safety';
import { T, describeInvariants, productionExpectations, embeddingSecurityGroupId, embeddingService } from './support/invariants';

const prod = stackConfigFile('prod');
const topic = 'arn:aws:sns:us-east-1:123456789012:superschedules-alerts';
const config = {
  ...prod,
  ...toConfigMap({
    'embedding:egress': 'endpoints',
    'embedding:routeTableIds': ['rtb-0a1b2c3d4e5f60003'],
    'embedding:existingEndpoints': ['logs'],
    'embedding:desiredCount': 3,
    'embedding:alarmTopicArn': topic,
  }),
};
let run: ProgramRun;

beforeAll(async () => {
  run = await runProgram(config, 'prod');
});

describeInvariants(() => run, productionExpectations(config));

describeDeploySafety(() => run, {
  vpcCidrs: VPC_CIDRS[prod['embedding:vpcId']],
  createdInterfaceEndpoints: ['ecr.api', 'ecr.dkr', 'xray'],
  embeddingArchitecture: 'X86_64',
});

describe('endpoints: created and reused', () => {
  const interfaces = () => run.ofType(T.vpcEndpoint).filter((e) => e.inputs.vpcEndpointType === 'Interface');
  const endpointSg = () => run.one(T.securityGroup, 'private-egress-sg');
  const vpcCidrList = () => run.one('aws:ec2/managedPrefixList:ManagedPrefixList', 'private-egress-vpc-cidrs');

  it('creates the missing interface endpoints with private DNS in the task subnets, and looks the reused one up', () => {
    expect(interfaces().map((e) => e.inputs.serviceName).sort()).toEqual(['ecr.api', 'ecr.dkr', 'xray'].map((s) => `com.amazonaws.us-east-1.${s}`));
    for (const e of interfaces()) {
      expect(e.inputs).toMatchObject({ vpcId: prod['embedding:vpcId'], privateDnsEnabled: true, securityGroupIds: [endpointSg().id] });
      expect(e.inputs.subnetIds).toEqual(JSON.parse(prod['embedding:subnetIds']));
    }
    expect(run.calls.filter((c) => c.token === 'aws:ec2/getVpcEndpoint:getVpcEndpoint').map((c) => c.inputs.serviceName)).toEqual([
      'com.amazonaws.us-east-1.logs',
    ]);
  });

  it('creates the S3 gateway endpoint on the configured route tables', () => {
    const s3 = run.one(T.vpcEndpoint, 'private-egress-s3').inputs;
    expect(s3).toMatchObject({ serviceName: 'com.amazonaws.us-east-1.s3', vpcEndpointType: 'Gateway', routeTableIds: ['rtb-0a1b2c3d4e5f60003'] });
  });

  it("reads the VPC's CIDR blocks into a prefix list, and the endpoints admit exactly 443 from it, before private DNS turns on", () => {
    expect(vpcCidrList().inputs.entries.map((e: { cidr: string }) => e.cidr)).toEqual(VPC_CIDRS[prod['embedding:vpcId']]);
    const rules = run.ofType(T.ingress).filter((r) => r.inputs.securityGroupId === endpointSg().id);
    expect(rules.map((r) => r.inputs)).toEqual([expect.objectContaining({ ipProtocol: 'tcp', fromPort: 443, toPort: 443, prefixListId: vpcCidrList().id })]);
    for (const e of interfaces()) expect(e.dependencies).toContain(rules[0].urn);
  });

  it('the task has no public IP and lets out 443 to the VPC and the S3 prefix list only; it waits for the endpoints', () => {
    const egress = run.ofType(T.egress).filter((r) => r.inputs.securityGroupId === embeddingSecurityGroupId(run));
    expect(egress.map((r) => r.inputs.prefixListId).sort()).toEqual([vpcCidrList().id, S3_PREFIX_LIST_ID].sort());
    for (const r of egress) expect(r.inputs.cidrIpv4).toBeUndefined();
    for (const e of run.ofType(T.vpcEndpoint)) expect(embeddingService(run).dependencies).toContain(e.urn);
  });
});
