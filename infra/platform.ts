/**
 * What the embedding service runs in: VPC and subnets, ECS cluster and Cloud Map namespace. Each
 * piece is taken from stack config when given (production: nothing created, only looked up) or
 * created here (fresh account, demo): an awsx VPC, a cluster, a private DNS namespace and a
 * `callers` security group for the tasks that may call the service (a one-off test task, say).
 */
import * as aws from '@pulumi/aws';
import * as awsx from '@pulumi/awsx';
import * as pulumi from '@pulumi/pulumi';
import { EgressMode, ExistingNetwork, clusterNameFromArn } from './config';

export interface PlatformArgs {
  /** Existing VPC and subnets; a demo VPC is created when undefined. */
  readonly existingNetwork?: ExistingNetwork;
  /** In a created VPC: `public-ip` puts the task in public subnets, `existing` behind one NAT gateway, `endpoints` in private subnets alone. */
  readonly egress: EgressMode;
  readonly clusterArn?: string;
  readonly namespaceId?: string;
  /** Name of the namespace to create (or the name of the existing one). */
  readonly namespaceName: string;
  /** Name of a cluster created here. */
  readonly clusterName: string;
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** Why `namespaceName` is not the name of `namespaceId` (undefined: it is). */
export function namespaceMismatch(namespaceName: string, namespaceId: string, idOfName: string): string | undefined {
  if (idOfName === namespaceId) return undefined;
  return `embedding:namespaceName ${namespaceName} is the private DNS namespace ${idOfName}, not embedding:namespaceId ${namespaceId}: clients would get a URL that does not resolve to the service`;
}

export class Platform extends pulumi.ComponentResource {
  public readonly vpcId: pulumi.Output<string>;
  public readonly subnetIds: pulumi.Output<string[]>;
  /** Route tables of the task subnets (for an S3 gateway endpoint). */
  public readonly routeTableIds: pulumi.Output<string[]>;
  public readonly clusterArn: pulumi.Output<string>;
  public readonly clusterName: pulumi.Output<string>;
  public readonly namespaceId: pulumi.Output<string>;
  public readonly namespaceName: string;
  /** In a created VPC: the security group of tasks allowed to call the service (none in an existing VPC). */
  public readonly callerSecurityGroupId?: pulumi.Output<string>;
  /** True when this stack created the VPC. */
  public readonly createdVpc: boolean;

  constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super('superschedules:embedding:Platform', name, args, opts);
    const existing = args.existingNetwork;
    if (existing !== undefined && existing.subnetIds.length === 0) throw new Error('existingNetwork needs subnets');
    if (existing === undefined && args.namespaceId !== undefined) throw new Error('an existing namespace needs the existing VPC it lives in');
    if (existing !== undefined && args.egress === 'endpoints' && (existing.routeTableIds ?? []).length === 0) {
      throw new Error('egress=endpoints in an existing VPC needs its route table ids');
    }
    const parent = { parent: this };
    this.createdVpc = existing === undefined;
    this.namespaceName = args.namespaceName;

    if (existing !== undefined) {
      this.vpcId = pulumi.output(existing.vpcId);
      this.subnetIds = pulumi.output([...existing.subnetIds]);
      this.routeTableIds = pulumi.output([...(existing.routeTableIds ?? [])]);
    } else {
      const vpc = new awsx.ec2.Vpc(
        `${name}-vpc`,
        {
          cidrBlock: '10.42.0.0/16',
          numberOfAvailabilityZones: 2,
          enableDnsHostnames: true,
          enableDnsSupport: true,
          natGateways: {
            strategy: args.egress === 'existing' ? awsx.types.enums.ec2.NatGatewayStrategy.Single : awsx.types.enums.ec2.NatGatewayStrategy.None,
          },
          tags: args.tags,
        },
        parent,
      );
      this.vpcId = vpc.vpcId;
      this.subnetIds = args.egress === 'public-ip' ? vpc.publicSubnetIds : vpc.privateSubnetIds;
      // Only the S3 gateway endpoint needs them; a created VPC has several, all get the route.
      this.routeTableIds =
        args.egress === 'endpoints' ? aws.ec2.getRouteTablesOutput({ vpcId: vpc.vpcId }, parent).ids : pulumi.output([]);
    }

    if (args.clusterArn !== undefined) {
      this.clusterArn = pulumi.output(args.clusterArn);
      this.clusterName = pulumi.output(clusterNameFromArn(args.clusterArn));
    } else {
      const cluster = new aws.ecs.Cluster(`${name}-cluster`, { name: args.clusterName, tags: args.tags }, parent);
      this.clusterArn = cluster.arn;
      this.clusterName = cluster.name;
    }

    if (args.namespaceId !== undefined) {
      const expectedId = args.namespaceId;
      // The clients' URL is built from namespaceName: it must be the name of namespaceId.
      const found = aws.servicediscovery.getDnsNamespaceOutput({ name: args.namespaceName, type: 'DNS_PRIVATE' }, parent);
      this.namespaceId = found.id.apply((id) => {
        const problem = namespaceMismatch(args.namespaceName, expectedId, id);
        if (problem !== undefined) throw new Error(problem);
        return id;
      });
    } else {
      const namespace = new aws.servicediscovery.PrivateDnsNamespace(
        `${name}-namespace`,
        { name: args.namespaceName, vpc: this.vpcId, description: 'Superschedules internal services', tags: args.tags },
        parent,
      );
      this.namespaceId = namespace.id;
    }

    if (existing === undefined) {
      this.callerSecurityGroupId = new aws.ec2.SecurityGroup(
        `${name}-callers-sg`,
        {
          vpcId: this.vpcId,
          description: 'Tasks allowed to call the embedding service',
          egress: [{ protocol: '-1', fromPort: 0, toPort: 0, cidrBlocks: ['0.0.0.0/0'], description: 'all egress' }],
          tags: args.tags,
        },
        parent,
      ).id;
    }

    this.registerOutputs({
      vpcId: this.vpcId,
      subnetIds: this.subnetIds,
      clusterArn: this.clusterArn,
      clusterName: this.clusterName,
      namespaceId: this.namespaceId,
      callerSecurityGroupId: this.callerSecurityGroupId,
    });
  }
}
