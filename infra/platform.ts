/**
 * What the services run in: VPC and subnets, ECS cluster, Cloud Map namespace and the client
 * security groups. Each piece is taken from stack config when given (production) or created here
 * (fresh account, demo): an awsx VPC, a cluster with Container Insights, a private DNS namespace
 * and one security group per client.
 */
import * as aws from '@pulumi/aws';
import * as awsx from '@pulumi/awsx';
import * as pulumi from '@pulumi/pulumi';
import { ClientKind, ExistingNetwork, clusterNameFromArn } from './config';

export interface PlatformArgs {
  /** Existing VPC and subnets; a demo VPC is created when undefined. */
  readonly existingNetwork?: ExistingNetwork;
  /** existing: the VPC already reaches AWS APIs (NAT or endpoints; a created VPC gets one NAT gateway); endpoints: create VPC endpoints. */
  readonly egress: 'existing' | 'endpoints';
  readonly clusterArn?: string;
  readonly namespaceId?: string;
  /** Name of the namespace to create (or the name of the existing one). */
  readonly namespaceName: string;
  readonly clientSecurityGroupIds?: Readonly<Record<ClientKind, string>>;
  /** Name of a cluster created here. */
  readonly clusterName: string;
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** Why an existing cluster's settings cannot feed the running-task alarm (undefined: they can). */
export function containerInsightsProblem(clusterName: string, settings: readonly { name: string; value: string }[]): string | undefined {
  const value = settings.find((s) => s.name === 'containerInsights')?.value;
  if (value === 'enabled' || value === 'enhanced') return undefined;
  return (
    `cluster ${clusterName} has Container Insights ${value ?? 'off'}: the running-task alarm would never get data. ` +
    `Turn it on first: aws ecs update-cluster-settings --cluster ${clusterName} --settings name=containerInsights,value=enabled`
  );
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
  public readonly clientSecurityGroupIds: Readonly<Record<ClientKind, pulumi.Output<string>>>;
  /** True when this stack created the VPC. */
  public readonly createdVpc: boolean;

  constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super('superschedules:embedding:Platform', name, args, opts);
    const existing = args.existingNetwork;
    if (existing !== undefined && existing.subnetIds.length === 0) throw new Error('existingNetwork needs subnets');
    if (existing === undefined && (args.namespaceId !== undefined || args.clientSecurityGroupIds !== undefined)) {
      throw new Error('an existing namespace or client security groups need the existing VPC they live in');
    }
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
      this.subnetIds = vpc.privateSubnetIds;
      // Only the S3 gateway endpoint needs them; a created VPC has several, all get the route.
      this.routeTableIds =
        args.egress === 'endpoints' ? aws.ec2.getRouteTablesOutput({ vpcId: vpc.vpcId }, parent).ids : pulumi.output([]);
    }

    if (args.clusterArn !== undefined) {
      const clusterName = clusterNameFromArn(args.clusterArn);
      // The running-task alarm reads Container Insights: refuse a cluster that does not publish it.
      const cluster = aws.ecs.getClusterOutput({ clusterName }, parent);
      this.clusterArn = cluster.apply((c) => {
        const problem = containerInsightsProblem(clusterName, c.settings);
        if (problem !== undefined) throw new Error(problem);
        return args.clusterArn as string;
      });
      this.clusterName = pulumi.output(clusterName);
    } else {
      const cluster = new aws.ecs.Cluster(
        `${name}-cluster`,
        { name: args.clusterName, settings: [{ name: 'containerInsights', value: 'enabled' }], tags: args.tags },
        parent,
      );
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

    if (args.clientSecurityGroupIds !== undefined) {
      const ids = args.clientSecurityGroupIds;
      this.clientSecurityGroupIds = { django: pulumi.output(ids.django), chat: pulumi.output(ids.chat) };
    } else {
      const clientSg = (kind: ClientKind) =>
        new aws.ec2.SecurityGroup(
          `${name}-${kind}-sg`,
          {
            vpcId: this.vpcId,
            description: `Superschedules ${kind} tasks`,
            egress: [{ protocol: '-1', fromPort: 0, toPort: 0, cidrBlocks: ['0.0.0.0/0'], description: 'all egress' }],
            tags: args.tags,
          },
          parent,
        ).id;
      this.clientSecurityGroupIds = { django: clientSg('django'), chat: clientSg('chat') };
    }

    this.registerOutputs({
      vpcId: this.vpcId,
      subnetIds: this.subnetIds,
      clusterArn: this.clusterArn,
      clusterName: this.clusterName,
      namespaceId: this.namespaceId,
      djangoSecurityGroupId: this.clientSecurityGroupIds.django,
      chatSecurityGroupId: this.clientSecurityGroupIds.chat,
    });
  }
}
