/**
 * Private egress for tasks without a public IP in a VPC without NAT: interface endpoints for the
 * APIs the embedding task calls (ECR API and registry, CloudWatch Logs, X-Ray, CloudWatch metrics)
 * and the S3 gateway endpoint ECR serves image layers through; plus an ECR pull-through cache rule
 * for public.ecr.aws, which has no VPC endpoint.
 *
 * The endpoints' security group starts with no rules; each consumer adds "443 from my security
 * group" (see EmbeddingService), so no CIDR is ever opened.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

/** Interface endpoints the embedding task needs (service suffixes after `com.amazonaws.<region>.`). */
export const INTERFACE_ENDPOINT_SERVICES = Object.freeze(['ecr.api', 'ecr.dkr', 'logs', 'xray', 'monitoring']);

/**
 * ECR repository prefix of the pull-through cache for public.ecr.aws: ECR Public has no VPC
 * endpoint, so public images (the ADOT collector) are pulled through the private registry.
 */
export const PUBLIC_ECR_CACHE_PREFIX = 'ecr-public-embedding';

export interface PrivateEndpointsArgs {
  readonly vpcId: pulumi.Input<string>;
  /** One subnet per availability zone (an interface endpoint takes at most one per AZ). */
  readonly subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** Route tables of those subnets: the S3 gateway endpoint adds its route there. */
  readonly routeTableIds: pulumi.Input<pulumi.Input<string>[]>;
  readonly region: string;
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export class PrivateEndpoints extends pulumi.ComponentResource {
  /** Security group of the interface endpoints (consumers add 443 ingress from theirs). */
  public readonly securityGroupId: pulumi.Output<string>;
  /** Managed prefix list of the S3 gateway endpoint (for a 443 egress rule to S3). */
  public readonly s3PrefixListId: pulumi.Output<string>;
  public readonly endpointIds: pulumi.Output<string>[];
  /** Registry (account) that caches public.ecr.aws images under PUBLIC_ECR_CACHE_PREFIX. */
  public readonly cacheRegistryId: pulumi.Output<string>;
  public readonly cachePrefix: string = PUBLIC_ECR_CACHE_PREFIX;

  constructor(name: string, args: PrivateEndpointsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('superschedules:embedding:PrivateEndpoints', name, args, opts);
    if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(args.region)) throw new Error(`not an AWS region: ${args.region}`);
    const parent = { parent: this };

    const sg = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      { vpcId: args.vpcId, description: 'VPC interface endpoints: HTTPS from the tasks that use them', tags: args.tags },
      parent,
    );

    const interfaces = INTERFACE_ENDPOINT_SERVICES.map(
      (service) =>
        new aws.ec2.VpcEndpoint(
          `${name}-${service.replace('.', '-')}`,
          {
            vpcId: args.vpcId,
            serviceName: `com.amazonaws.${args.region}.${service}`,
            vpcEndpointType: 'Interface',
            privateDnsEnabled: true,
            subnetIds: args.subnetIds,
            securityGroupIds: [sg.id],
            tags: args.tags,
          },
          parent,
        ),
    );
    const s3 = new aws.ec2.VpcEndpoint(
      `${name}-s3`,
      {
        vpcId: args.vpcId,
        serviceName: `com.amazonaws.${args.region}.s3`,
        vpcEndpointType: 'Gateway',
        routeTableIds: args.routeTableIds,
        tags: args.tags,
      },
      parent,
    );

    const cache = new aws.ecr.PullThroughCacheRule(
      `${name}-public-ecr-cache`,
      { ecrRepositoryPrefix: PUBLIC_ECR_CACHE_PREFIX, upstreamRegistryUrl: 'public.ecr.aws' },
      parent,
    );

    this.securityGroupId = sg.id;
    this.cacheRegistryId = cache.registryId;
    this.s3PrefixListId = s3.prefixListId;
    this.endpointIds = [...interfaces, s3].map((e) => e.id);
    this.registerOutputs({
      securityGroupId: this.securityGroupId,
      s3PrefixListId: this.s3PrefixListId,
      endpointIds: this.endpointIds,
      cacheRegistryId: this.cacheRegistryId,
    });
  }
}
