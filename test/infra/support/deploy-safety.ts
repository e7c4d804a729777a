/**
 * What the first real `pulumi up` must not break, checked on every stack configuration: nothing
 * shared in the VPC changes unless the config asks for endpoints (and then every task of the VPC
 * keeps reaching ECR and CloudWatch through them), no rule lands on a security group the stack did
 * not create, and no task image needs a first pull through a pull-through cache.
 */
import { ACCOUNT, ProgramRun, REGION, RecordedResource, containersOf } from './harness';
import { T } from './invariants';

export interface SafetyExpectations {
  /** IPv4 CIDR blocks of the stack's VPC (what the getVpc mock answers). */
  readonly vpcCidrs: readonly string[];
  /** Interface endpoints this stack must create (service suffixes), empty when it creates none. */
  readonly createdInterfaceEndpoints: readonly string[];
  /** CPU architecture of the embedding task (from `imagePlatform`). */
  readonly embeddingArchitecture: 'X86_64' | 'ARM64';
}

/** Resources that change routing, DNS or addressing for everything in a VPC. */
const VPC_WIDE_TYPES = [
  'aws:ec2/vpcEndpoint:VpcEndpoint',
  'aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation',
  'aws:ec2/route:Route',
  'aws:ec2/routeTable:RouteTable',
  'aws:ec2/routeTableAssociation:RouteTableAssociation',
  'aws:ec2/managedPrefixList:ManagedPrefixList',
  'aws:ec2/vpcDhcpOptionsAssociation:VpcDhcpOptionsAssociation',
  'aws:ec2/natGateway:NatGateway',
  'aws:ec2/networkAcl:NetworkAcl',
  'aws:ec2/networkAclRule:NetworkAclRule',
];

/** CIDRs a rule admits: its own CIDR, or the entries of the managed prefix list it references. */
function sourcesOf(run: ProgramRun, rule: RecordedResource): string[] {
  if (rule.inputs.cidrIpv4 !== undefined) return [rule.inputs.cidrIpv4];
  if (rule.inputs.prefixListId !== undefined) {
    const list = run.ofType('aws:ec2/managedPrefixList:ManagedPrefixList').find((l) => l.id === rule.inputs.prefixListId);
    return (list?.inputs.entries ?? []).map((e: { cidr: string }) => e.cidr);
  }
  return [];
}

export function describeDeploySafety(getRun: () => ProgramRun, x: SafetyExpectations): void {
  const run = () => getRun();
  const interfaces = () => run().ofType(T.vpcEndpoint).filter((e) => e.inputs.vpcEndpointType === 'Interface');

  describe('first deploy: nothing else in the VPC breaks', () => {
    it('changes no route, endpoint or prefix list of the VPC unless it creates interface endpoints', () => {
      if (x.createdInterfaceEndpoints.length > 0) return;
      expect(run().resources.filter((r) => VPC_WIDE_TYPES.includes(r.type) && !r.parent.includes('::awsx:ec2:Vpc::')).map((r) => r.type)).toEqual([]);
    });

    it('adds rules only to security groups it created', () => {
      const own = run().ofType(T.securityGroup).map((g) => g.id);
      for (const rule of [...run().ofType(T.ingress), ...run().ofType(T.egress)]) expect([rule.name, own]).toEqual([rule.name, expect.arrayContaining([rule.inputs.securityGroupId])]);
      expect(run().ofType('aws:ec2/securityGroupRule:SecurityGroupRule')).toEqual([]);
    });

    it('creates exactly the expected interface endpoints, all with private DNS', () => {
      const created = interfaces().map((e) => String(e.inputs.serviceName).replace(/^com\.amazonaws\.[a-z0-9-]+\./, ''));
      expect(created.sort()).toEqual([...x.createdInterfaceEndpoints].sort());
      for (const e of interfaces()) expect(e.inputs.privateDnsEnabled).toBe(true);
    });

    it('every interface endpoint admits HTTPS from every CIDR of the VPC (Django, chat and the rest keep ECR and logs)', () => {
      for (const endpoint of interfaces()) {
        for (const sgId of endpoint.inputs.securityGroupIds as string[]) {
          const ingress = run()
            .ofType(T.ingress)
            .filter((r) => r.inputs.securityGroupId === sgId && r.inputs.ipProtocol === 'tcp' && r.inputs.fromPort <= 443 && r.inputs.toPort >= 443);
          const admitted = ingress.flatMap((r) => sourcesOf(run(), r));
          expect(admitted).toEqual(expect.arrayContaining([...x.vpcCidrs]));
        }
      }
    });

    it('no task image depends on a first pull through an ECR pull-through cache rule', () => {
      expect(run().ofType('aws:ecr/pullThroughCacheRule:PullThroughCacheRule')).toEqual([]);
      const urls = run()
        .ofType('aws:ecr/repository:Repository')
        .map((r) => `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${r.inputs.name as string}`);
      const images = containersOf(run().one(T.taskDefinition, 'embedding-task')).map((c) => c.image as string);
      expect(images).toHaveLength(2);
      for (const image of images) {
        // Pushed by this deploy into a private repository of the stack, referenced by digest.
        expect(urls.some((url) => new RegExp(`^${url.replace(/[.]/g, '\\.')}@sha256:[0-9a-f]{64}$`).test(image))).toBe(true);
      }
      expect(JSON.stringify(run().one(T.rolePolicy, 'embedding-execution-policy').inputs.policy)).not.toMatch(/BatchImportUpstreamImage/);
    });

    it('every image repository can be deleted by `pulumi destroy` (forceDelete)', () => {
      for (const repo of run().ofType('aws:ecr/repository:Repository')) expect(repo.inputs.forceDelete).toBe(true);
    });
  });

  it('the embedding task runs on the architecture of its image', () => {
    expect(run().one(T.taskDefinition, 'embedding-task').inputs.runtimePlatform).toEqual({
      operatingSystemFamily: 'LINUX',
      cpuArchitecture: x.embeddingArchitecture,
    });
  });
}
