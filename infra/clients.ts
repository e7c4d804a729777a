/**
 * A client of the embedding service (Django or chat) on Fargate: log group, execution role, task
 * definition with its own image/command/env, and its ECS service.
 *
 * Wired (`embeddingServiceUrl` set): the container gets EMBEDDING_SERVICE_URL and the ECS service
 * depends on `rolloutAfter` (the embedding ECS service, which waits for steady state), so one
 * `pulumi up` rolls the embedding service first and the clients only once it is healthy.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { ClientConfig } from './config';
import { clientContainer } from './containers';
import { fargateSizeProblems } from './sizing';
import { ASSUME_ECS_TASKS } from './iam';
import { ZERO_GAP_ROLLOUT } from './rollout';

export interface ClientServiceArgs {
  readonly client: ClientConfig;
  readonly clusterArn: pulumi.Input<string>;
  readonly subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  readonly securityGroupId: pulumi.Input<string>;
  readonly region: string;
  readonly logRetentionDays: number;
  /** Set to wire the client; undefined deploys it unchanged (stage 1 only). */
  readonly embeddingServiceUrl?: string;
  /** Resources the client's service must wait for (the embedding ECS service when wired). */
  readonly rolloutAfter?: pulumi.Resource[];
  readonly cpuArchitecture: 'X86_64' | 'ARM64';
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export class ClientService extends pulumi.ComponentResource {
  public readonly service: aws.ecs.Service;
  public readonly serviceName: pulumi.Output<string>;
  public readonly taskDefinitionArn: pulumi.Output<string>;
  public readonly logGroupName: pulumi.Output<string>;

  constructor(name: string, args: ClientServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super('superschedules:embedding:ClientService', name, args, opts);
    const c = args.client;
    const problems = fargateSizeProblems(c.cpu, c.memory);
    if (problems.length > 0) throw new Error(`${c.kind}: ${problems.join('; ')}`);
    if (args.embeddingServiceUrl !== undefined && !/^http:\/\/[a-z0-9.-]+:\d+$/.test(args.embeddingServiceUrl)) {
      throw new Error(`bad embedding service URL: ${args.embeddingServiceUrl}`);
    }
    const parent = { parent: this };
    const tags = args.tags;

    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: `/ecs/${c.serviceName}`, retentionInDays: args.logRetentionDays, tags },
      parent,
    );
    const executionRole = new aws.iam.Role(`${name}-execution-role`, { assumeRolePolicy: ASSUME_ECS_TASKS, tags }, parent);
    // The clients' images may live in any repository of the account: AWS's task execution policy
    // (ECR pull + logs).
    new aws.iam.RolePolicyAttachment(
      `${name}-execution-policy`,
      { role: executionRole.name, policyArn: 'arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy' },
      parent,
    );

    const containerDefinitions = logGroup.name.apply((logGroupName) =>
      JSON.stringify([
        clientContainer({
          name: c.kind,
          image: c.image,
          command: c.command,
          port: c.port,
          environment: c.environment,
          embeddingServiceUrl: args.embeddingServiceUrl,
          region: args.region,
          logGroupName,
        }),
      ]),
    );
    const taskDefinition = new aws.ecs.TaskDefinition(
      `${name}-task`,
      {
        family: c.serviceName,
        cpu: String(c.cpu),
        memory: String(c.memory),
        networkMode: 'awsvpc',
        requiresCompatibilities: ['FARGATE'],
        runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: args.cpuArchitecture },
        executionRoleArn: executionRole.arn,
        ...(c.taskRoleArn !== undefined ? { taskRoleArn: c.taskRoleArn } : {}),
        containerDefinitions,
        tags,
      },
      parent,
    );

    this.service = new aws.ecs.Service(
      `${name}-service`,
      {
        name: c.serviceName,
        cluster: args.clusterArn,
        taskDefinition: taskDefinition.arn,
        launchType: 'FARGATE',
        desiredCount: c.desiredCount,
        networkConfiguration: { subnets: args.subnetIds, securityGroups: [args.securityGroupId], assignPublicIp: c.assignPublicIp },
        ...ZERO_GAP_ROLLOUT,
        propagateTags: 'SERVICE',
        tags,
      },
      { parent: this, dependsOn: args.rolloutAfter ?? [] },
    );

    this.serviceName = this.service.name;
    this.taskDefinitionArn = taskDefinition.arn;
    this.logGroupName = logGroup.name;
    this.registerOutputs({ serviceName: this.serviceName, taskDefinitionArn: this.taskDefinitionArn, logGroupName: this.logGroupName });
  }
}
