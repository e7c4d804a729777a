/**
 * Private egress for tasks without a public IP in a VPC without NAT: interface endpoints for the
 * APIs the embedding task calls (ECR API and registry, CloudWatch Logs, X-Ray) and the S3 gateway
 * endpoint ECR serves image layers through.
 *
 * An interface endpoint with private DNS answers for the service's public name in the WHOLE VPC:
 * once it exists, every task of the VPC (Django, chat, anything else) pulls images and ships logs
 * through it. So the endpoints admit HTTPS from every IPv4 CIDR block of the VPC, never from one
 * consumer only (ECR user guide, "Considerations for Amazon ECR VPC endpoints": the endpoint's
 * security group must allow 443 from the VPC's subnets).
 *
 * An endpoint the VPC already has (private DNS for the same service cannot exist twice) is listed
 * in `reuse`: it is looked up (the deploy fails early if it is missing or has no private DNS) and
 * not created.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { ENDPOINT_SERVICES, EndpointService } from './config';

/** Room in the VPC-CIDR prefix list: a VPC has at most 5 IPv4 CIDR blocks unless its quota was raised. */
export const VPC_CIDR_LIST_MAX_ENTRIES = 5;

export interface PrivateEndpointsArgs {
  readonly vpcId: pulumi.Input<string>;
  /** One subnet per availability zone (an interface endpoint takes at most one per AZ). */
  readonly subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** Route tables of those subnets: the S3 gateway endpoint adds its route there. */
  readonly routeTableIds: pulumi.Input<pulumi.Input<string>[]>;
  readonly region: string;
  /** Endpoints the VPC already has: used as they are, not created. */
  readonly reuse?: readonly EndpointService[];
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** IPv4 CIDR blocks associated with a VPC, primary first (getVpc's answer). */
export function vpcIpv4Cidrs(vpc: { cidrBlock: string; cidrBlockAssociations?: { cidrBlock: string; state: string }[] }): string[] {
  const associated = (vpc.cidrBlockAssociations ?? []).filter((a) => a.state === 'associated').map((a) => a.cidrBlock);
  return [...new Set([vpc.cidrBlock, ...associated])];
}

export class PrivateEndpoints extends pulumi.ComponentResource {
  /** Managed prefix list of the VPC's IPv4 CIDR blocks (HTTPS to the endpoints goes there). */
  public readonly vpcCidrPrefixListId: pulumi.Output<string>;
  /** AWS-managed prefix list of S3 in the region (ECR image layers). */
  public readonly s3PrefixListId: pulumi.Output<string>;
  /** Security group of the endpoints this stack creates. */
  public readonly securityGroupId: pulumi.Output<string>;
  /** Every endpoint the task uses, created or reused. */
  public readonly endpointIds: pulumi.Output<string>[];
  public readonly vpcCidrs: pulumi.Output<string[]>;

  constructor(name: string, args: PrivateEndpointsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('superschedules:embedding:PrivateEndpoints', name, args, opts);
    if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(args.region)) throw new Error(`not an AWS region: ${args.region}`);
    const reuse = new Set(args.reuse ?? []);
    for (const service of reuse) {
      if (!ENDPOINT_SERVICES.includes(service)) throw new Error(`not an endpoint this stack uses: ${service}`);
    }
    const parent = { parent: this };
    const serviceName = (service: EndpointService) => `com.amazonaws.${args.region}.${service}`;

    const vpc = aws.ec2.getVpcOutput({ id: args.vpcId }, parent);
    this.vpcCidrs = vpc.apply((v) => vpcIpv4Cidrs(v));
    const vpcCidrList = new aws.ec2.ManagedPrefixList(
      `${name}-vpc-cidrs`,
      {
        name: `${name}-vpc-cidrs`,
        addressFamily: 'IPv4',
        maxEntries: VPC_CIDR_LIST_MAX_ENTRIES,
        entries: this.vpcCidrs.apply((cidrs) => {
          if (cidrs.length > VPC_CIDR_LIST_MAX_ENTRIES) throw new Error(`the VPC has ${cidrs.length} IPv4 CIDR blocks, more than ${VPC_CIDR_LIST_MAX_ENTRIES}`);
          return cidrs.map((cidr) => ({ cidr, description: 'VPC CIDR block' }));
        }),
        tags: args.tags,
      },
      parent,
    );

    const sg = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      { vpcId: args.vpcId, description: 'VPC interface endpoints: HTTPS from the whole VPC (private DNS serves every task in it)', tags: args.tags },
      parent,
    );
    const fromVpc = new aws.vpc.SecurityGroupIngressRule(
      `${name}-https-from-vpc`,
      { securityGroupId: sg.id, description: 'HTTPS from every CIDR block of the VPC', ipProtocol: 'tcp', fromPort: 443, toPort: 443, prefixListId: vpcCidrList.id },
      parent,
    );

    const interfaceServices = ENDPOINT_SERVICES.filter((s) => s !== 's3');
    const created = interfaceServices
      .filter((service) => !reuse.has(service))
      .map(
        (service) =>
          new aws.ec2.VpcEndpoint(
            `${name}-${service.replace('.', '-')}`,
            {
              vpcId: args.vpcId,
              serviceName: serviceName(service),
              vpcEndpointType: 'Interface',
              privateDnsEnabled: true,
              subnetIds: args.subnetIds,
              securityGroupIds: [sg.id],
              tags: args.tags,
            },
            // The ingress rule first: from the moment private DNS points the VPC at the endpoint, it must admit the VPC.
            { parent: this, dependsOn: [fromVpc] },
          ).id,
      );
    if (!reuse.has('s3')) {
      created.push(
        new aws.ec2.VpcEndpoint(
          `${name}-s3`,
          { vpcId: args.vpcId, serviceName: serviceName('s3'), vpcEndpointType: 'Gateway', routeTableIds: args.routeTableIds, tags: args.tags },
          parent,
        ).id,
      );
    }
    const reused = [...reuse].map((service) =>
      aws.ec2
        .getVpcEndpointOutput({ vpcId: args.vpcId, serviceName: serviceName(service), filters: [{ name: 'vpc-endpoint-state', values: ['available'] }] }, parent)
        .apply((endpoint) => {
          if (service !== 's3' && !endpoint.privateDnsEnabled) {
            throw new Error(`the existing ${service} endpoint ${endpoint.id} has private DNS off: the task resolves the public name, which it cannot reach`);
          }
          return endpoint.id;
        }),
    );

    this.vpcCidrPrefixListId = vpcCidrList.id;
    this.s3PrefixListId = aws.ec2.getPrefixListOutput({ name: serviceName('s3') }, parent).id;
    this.securityGroupId = sg.id;
    this.endpointIds = [...created, ...reused];
    this.registerOutputs({
      vpcCidrPrefixListId: this.vpcCidrPrefixListId,
      s3PrefixListId: this.s3PrefixListId,
      securityGroupId: this.securityGroupId,
      endpointIds: this.endpointIds,
    });
  }
}
