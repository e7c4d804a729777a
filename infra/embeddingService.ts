/**
 * The embedding service on Fargate: its security group and rules, execution and task roles, the
 * task definition (app + ADOT collector), the Cloud Map service that makes
 * `embedding.<namespace>` resolve to the healthy tasks, and the ECS service itself.
 *
 * `desiredCount` tasks (one by default), no autoscaling, no load balancer: clients reach the tasks
 * through Cloud Map's multivalue A records, and only from their security groups (a public IP, with
 * egress=public-ip, admits nothing more). Deployments start the new tasks and wait for them to be
 * healthy before stopping the old ones (100 % / 200 %), roll back on failure, and `pulumi up`
 * waits for steady state. Every task definition revision stays registered when replaced
 * (`skipDestroy`), so ECS can always be pointed back at the previous one.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { HEALTH_CHECK_TIMING, collectorConfig, embeddingContainers } from './containers';
import { healthCheckProblems } from './limits';
import { embeddingSizeProblems, stopTimeoutSeconds } from './sizing';
import { ASSUME_ECS_TASKS } from './iam';
import { ZERO_GAP_ROLLOUT } from './rollout';

/** How the task reaches ECR, CloudWatch and X-Ray. */
export type TaskEgress =
  /** Over the internet: through a NAT gateway, or its own public IP (`publicIp`). */
  | { readonly kind: 'internet'; readonly publicIp: boolean }
  | {
      readonly kind: 'endpoints';
      /** Prefix list of the VPC's CIDR blocks: the interface endpoints (created or reused) are there. */
      readonly vpcCidrPrefixListId: pulumi.Input<string>;
      readonly s3PrefixListId: pulumi.Input<string>;
      /** The endpoints: the service waits for them before its first task pulls. */
      readonly ready: pulumi.Resource;
    };

export interface EmbeddingServiceArgs {
  readonly serviceName: string;
  readonly cloudMapServiceName: string;
  readonly clusterArn: pulumi.Input<string>;
  readonly vpcId: pulumi.Input<string>;
  readonly subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  readonly namespaceId: pulumi.Input<string>;
  /** Security groups allowed to call the service on its port, each once, by a name for its rule. */
  readonly clientSecurityGroupIds: Readonly<Record<string, pulumi.Input<string>>>;
  readonly egress: TaskEgress;
  readonly image: pulumi.Input<string>;
  /** The collector's copy in a private repository of the stack (by digest). */
  readonly collectorImage: pulumi.Input<string>;
  /** Repositories the task pulls from (the app's and the collector's). */
  readonly repositoryArns: pulumi.Input<string>[];
  /** Tasks to run (Cloud Map answers with every healthy one). */
  readonly desiredCount: number;
  readonly region: string;
  readonly port: number;
  readonly cpu: number;
  readonly memory: number;
  readonly logLevel: string;
  readonly shutdownGraceMs: number;
  readonly cpuArchitecture: 'X86_64' | 'ARM64';
  readonly logGroupName: pulumi.Input<string>;
  readonly logGroupArn: pulumi.Input<string>;
  readonly metricsLogGroupName: pulumi.Input<string>;
  readonly metricsLogGroupArn: pulumi.Input<string>;
  readonly metricsNamespace: string;
  /** Cloud Map A record TTL (seconds). */
  readonly dnsTtl?: number;
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export class EmbeddingService extends pulumi.ComponentResource {
  /** The ECS service: clients depend on it (it waits for steady state). */
  public readonly service: aws.ecs.Service;
  public readonly serviceName: pulumi.Output<string>;
  public readonly securityGroupId: pulumi.Output<string>;
  public readonly taskDefinitionArn: pulumi.Output<string>;
  public readonly discoveryServiceArn: pulumi.Output<string>;

  constructor(name: string, args: EmbeddingServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super('superschedules:embedding:Service', name, args, opts);
    const sizeProblems = embeddingSizeProblems(args.cpu, args.memory);
    if (sizeProblems.length > 0) throw new Error(sizeProblems.join('; '));
    if (!Number.isInteger(args.port) || args.port < 1 || args.port > 65535) throw new Error(`bad port ${args.port}`);
    if (Object.keys(args.clientSecurityGroupIds).length === 0) throw new Error('at least one client security group');
    if (!Number.isInteger(args.desiredCount) || args.desiredCount < 1) throw new Error(`desiredCount must be at least 1, got ${args.desiredCount}`);
    const healthProblems = healthCheckProblems(HEALTH_CHECK_TIMING);
    if (healthProblems.length > 0) throw new Error(`container health check: ${healthProblems.join('; ')}`);
    const dnsTtl = args.dnsTtl ?? 10;
    if (dnsTtl < 0 || dnsTtl > 60) throw new Error(`Cloud Map TTL should stay short (0-60 s), got ${dnsTtl}`);
    const parent = { parent: this };
    const tags = args.tags;

    // Security group: no inline rules; every rule below is its own resource (and visible to tests).
    const sg = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      {
        vpcId: args.vpcId,
        description: `${args.serviceName}: TCP ${args.port} from its clients only`,
        revokeRulesOnDelete: true,
        tags,
      },
      parent,
    );
    const rules: pulumi.Resource[] = Object.entries(args.clientSecurityGroupIds).map(
      ([client, sourceSg]) =>
        new aws.vpc.SecurityGroupIngressRule(
          `${name}-from-${client}`,
          {
            securityGroupId: sg.id,
            description: `${client}: ${args.serviceName} clients`,
            ipProtocol: 'tcp',
            fromPort: args.port,
            toPort: args.port,
            referencedSecurityGroupId: sourceSg,
          },
          parent,
        ),
    );
    // Egress: HTTPS to the AWS APIs only (ECR, CloudWatch Logs/metrics, X-Ray). DNS goes to the
    // VPC resolver, which security groups do not filter; the collector is reached over loopback.
    const egress = args.egress;
    if (egress.kind === 'internet') {
      rules.push(
        new aws.vpc.SecurityGroupEgressRule(
          `${name}-https-out`,
          {
            securityGroupId: sg.id,
            description: egress.publicIp ? 'AWS APIs over the task public IP' : 'AWS APIs over NAT or existing endpoints',
            ipProtocol: 'tcp',
            fromPort: 443,
            toPort: 443,
            cidrIpv4: '0.0.0.0/0',
          },
          parent,
        ),
      );
    } else {
      rules.push(
        new aws.vpc.SecurityGroupEgressRule(
          `${name}-to-endpoints`,
          { securityGroupId: sg.id, description: 'VPC interface endpoints (anywhere in the VPC)', ipProtocol: 'tcp', fromPort: 443, toPort: 443, prefixListId: egress.vpcCidrPrefixListId },
          parent,
        ),
        new aws.vpc.SecurityGroupEgressRule(
          `${name}-to-s3`,
          { securityGroupId: sg.id, description: 'S3 gateway endpoint (ECR layers)', ipProtocol: 'tcp', fromPort: 443, toPort: 443, prefixListId: egress.s3PrefixListId },
          parent,
        ),
      );
    }

    // Execution role: pull the two images from the stack's repositories, write the container logs.
    const executionRole = new aws.iam.Role(`${name}-execution-role`, { assumeRolePolicy: ASSUME_ECS_TASKS, tags }, parent);
    new aws.iam.RolePolicy(
      `${name}-execution-policy`,
      {
        role: executionRole.id,
        policy: pulumi.jsonStringify({
          Version: '2012-10-17',
          Statement: [
            { Sid: 'EcrAuth', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
            { Sid: 'EcrPull', Effect: 'Allow', Action: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'], Resource: args.repositoryArns },
            { Sid: 'Logs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: pulumi.interpolate`${args.logGroupArn}:*` },
          ],
        }),
      },
      parent,
    );

    // Task role: what the collector sends (traces to X-Ray, metrics as EMF log events). The app
    // itself calls no AWS API, and nothing calls PutMetricData.
    const taskRole = new aws.iam.Role(`${name}-task-role`, { assumeRolePolicy: ASSUME_ECS_TASKS, tags }, parent);
    new aws.iam.RolePolicy(
      `${name}-task-policy`,
      {
        role: taskRole.id,
        policy: pulumi.jsonStringify({
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'XRay',
              Effect: 'Allow',
              Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets', 'xray:GetSamplingStatisticSummaries'],
              Resource: '*',
            },
            {
              Sid: 'EmfLogs',
              Effect: 'Allow',
              Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
              Resource: [args.metricsLogGroupArn, pulumi.interpolate`${args.metricsLogGroupArn}:*`],
            },
          ],
        }),
      },
      parent,
    );

    const stopTimeout = stopTimeoutSeconds(args.shutdownGraceMs);
    const containerDefinitions = pulumi
      .all([args.image, args.collectorImage, args.logGroupName, args.metricsLogGroupName])
      .apply(([image, collector, logGroupName, metricsLogGroupName]) =>
        JSON.stringify(
          embeddingContainers({
            image,
            collectorImage: collector,
            collectorConfig: JSON.stringify(
              collectorConfig({ region: args.region, metricsNamespace: args.metricsNamespace, metricsLogGroupName, appPort: args.port }),
            ),
            region: args.region,
            logGroupName,
            port: args.port,
            logLevel: args.logLevel,
            serviceName: args.serviceName,
            shutdownGraceMs: args.shutdownGraceMs,
            stopTimeout,
            taskCpu: args.cpu,
          }),
        ),
      );
    const taskDefinition = new aws.ecs.TaskDefinition(
      `${name}-task`,
      {
        family: args.serviceName,
        cpu: String(args.cpu),
        memory: String(args.memory),
        networkMode: 'awsvpc',
        requiresCompatibilities: ['FARGATE'],
        runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: args.cpuArchitecture },
        executionRoleArn: executionRole.arn,
        taskRoleArn: taskRole.arn,
        containerDefinitions,
        // Replacing it registers a new revision and leaves this one ACTIVE: the rollback target.
        skipDestroy: true,
        tags,
      },
      parent,
    );

    // Cloud Map: A records (awsvpc gives each task its own IP), one per healthy task (multivalue),
    // short TTL, health reported by ECS from the container health check.
    const discovery = new aws.servicediscovery.Service(
      `${name}-discovery`,
      {
        name: args.cloudMapServiceName,
        description: `${args.serviceName} tasks`,
        dnsConfig: { namespaceId: args.namespaceId, dnsRecords: [{ type: 'A', ttl: dnsTtl }], routingPolicy: 'MULTIVALUE' },
        // ECS reports the container health check to Cloud Map. failureThreshold is deprecated (AWS
        // always uses 1) but must stay, at the only value AWS uses: the AWS provider silently drops
        // an empty block, which would leave the service without a custom health check, so that
        // Cloud Map would answer with unhealthy tasks too (pulumi/pulumi-aws#6289,
        // hashicorp/terraform-provider-aws#44285).
        healthCheckCustomConfig: { failureThreshold: 1 },
        forceDestroy: true,
        tags,
      },
      parent,
    );

    this.service = new aws.ecs.Service(
      `${name}-service`,
      {
        name: args.serviceName,
        cluster: args.clusterArn,
        taskDefinition: taskDefinition.arn,
        launchType: 'FARGATE',
        platformVersion: 'LATEST',
        desiredCount: args.desiredCount,
        networkConfiguration: {
          subnets: args.subnetIds,
          securityGroups: [sg.id],
          assignPublicIp: egress.kind === 'internet' && egress.publicIp,
        },
        serviceRegistries: { registryArn: discovery.arn },
        ...ZERO_GAP_ROLLOUT,
        enableEcsManagedTags: true,
        propagateTags: 'SERVICE',
        tags,
      },
      { parent: this, dependsOn: egress.kind === 'endpoints' ? [...rules, egress.ready] : rules },
    );

    this.serviceName = this.service.name;
    this.securityGroupId = sg.id;
    this.taskDefinitionArn = taskDefinition.arn;
    this.discoveryServiceArn = discovery.arn;
    this.registerOutputs({
      serviceName: this.serviceName,
      securityGroupId: this.securityGroupId,
      taskDefinitionArn: this.taskDefinitionArn,
      discoveryServiceArn: this.discoveryServiceArn,
    });
  }
}
