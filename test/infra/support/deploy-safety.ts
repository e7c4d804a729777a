/**
 * What the first real `pulumi up` must not break, checked on every stack configuration (issue 8):
 * the existing Django and chat services keep reaching ECR and CloudWatch once interface endpoints
 * with private DNS exist, no task image needs a first pull through a pull-through cache, the clients
 * keep the public IPs their config gives them, stage 1 registers nothing of the clients, and a
 * client's CPU architecture is its own.
 */
import { ACCOUNT, ProgramRun, REGION, RecordedResource, containersOf } from './harness';
import { T } from './invariants';

export interface SafetyExpectations {
  /** IPv4 CIDR blocks of the stack's VPC (what the getVpc mock answers). */
  readonly vpcCidrs: readonly string[];
  /** Interface endpoints this stack must create (service suffixes), empty when it creates none. */
  readonly createdInterfaceEndpoints: readonly string[];
  /** `assignPublicIp` each deployed client must keep. */
  readonly clientPublicIps: Readonly<Record<string, boolean>>;
  /** Stage 1 (`wireClients=false`): nothing of the clients is registered. */
  readonly stage1: boolean;
  /** CPU architecture of the embedding task (from `imagePlatform`) and of each client (its own). */
  readonly embeddingArchitecture: 'X86_64' | 'ARM64';
  readonly clientArchitectures: Readonly<Record<string, 'X86_64' | 'ARM64'>>;
}

const CLIENT_COMPONENT = 'superschedules:embedding:ClientService';

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

  describe('clients', () => {
    if (x.stage1) {
      it('stage 1 registers no client resource at all', () => {
        expect(run().resources.filter((r) => r.type === CLIENT_COMPONENT)).toEqual([]);
        expect(run().resources.filter((r) => r.parent.includes(`::${CLIENT_COMPONENT}::`)).map((r) => r.name)).toEqual([]);
        expect(run().ofType(T.ecsService).map((s) => s.name)).toEqual(['embedding-service']);
        expect(run().ofType(T.taskDefinition).map((s) => s.name)).toEqual(['embedding-task']);
        expect(run().ofType(T.logGroup).map((g) => g.inputs.name).sort()).toEqual(['/ecs/embedding-service', '/ecs/embedding-service/otel-metrics']);
        expect(run().outputs.clientServiceNames).toEqual([]);
      });
    } else {
      it('each client keeps the public IP setting of its config', () => {
        for (const [kind, publicIp] of Object.entries(x.clientPublicIps)) {
          expect([kind, run().one(T.ecsService, `${kind}-service`).inputs.networkConfiguration.assignPublicIp]).toEqual([kind, publicIp]);
        }
      });

      it("each client's CPU architecture is its own, not the embedding image's", () => {
        for (const [kind, arch] of Object.entries(x.clientArchitectures)) {
          expect([kind, run().one(T.taskDefinition, `${kind}-task`).inputs.runtimePlatform.cpuArchitecture]).toEqual([kind, arch]);
        }
      });
    }

    it('the embedding task runs on the architecture of its image', () => {
      expect(run().one(T.taskDefinition, 'embedding-task').inputs.runtimePlatform).toEqual({
        operatingSystemFamily: 'LINUX',
        cpuArchitecture: x.embeddingArchitecture,
      });
    });
  });
}
