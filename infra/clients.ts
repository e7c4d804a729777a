/**
 * A client of the embedding service (Django or chat) on Fargate: log group, execution role, task
 * definition and ECS service, mirroring what the live service uses (secrets, task and execution
 * roles, health check, load balancer, ECS Exec, capacity providers, its own CPU architecture), so
 * that adopting the live service into the stack strips nothing from it.
 *
 * Only stage 2 creates it: the container gets EMBEDDING_SERVICE_URL and the ECS service depends on
 * `rolloutAfter` (the embedding ECS service, which waits for steady state), so one `pulumi up`
 * rolls the embedding service first and the clients only once it is healthy.
 *
 * With `retainOnDelete` (production services adopted into the stack), leaving the stack never
 * deletes them: `pulumi destroy` or going back to stage 1 only forgets them.
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
  /** `http://embedding.<namespace>:8003`, set on the container. */
  readonly embeddingServiceUrl: string;
  /** Resources the client's service must wait for (the embedding ECS service). */
  readonly rolloutAfter: pulumi.Resource[];
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** IAM resource of a secret as ECS reads it: a Secrets Manager ARN without its `:json-key:stage:version` suffix. */
export function secretResourceArn(valueFrom: string): string {
  const parts = valueFrom.split(':');
  return parts[2] === 'secretsmanager' ? parts.slice(0, 7).join(':') : valueFrom;
}

/** Execution-role statement that lets ECS read a client's secrets (none when it has none). */
export function secretsStatements(secrets: Readonly<Record<string, string>>): object[] {
  const arns = [...new Set(Object.values(secrets).map(secretResourceArn))].sort();
  const ssm = arns.filter((a) => a.split(':')[2] === 'ssm');
  const sm = arns.filter((a) => a.split(':')[2] === 'secretsmanager');
  return [
    ...(ssm.length > 0 ? [{ Sid: 'SsmParameters', Effect: 'Allow', Action: 'ssm:GetParameters', Resource: ssm }] : []),
    ...(sm.length > 0 ? [{ Sid: 'Secrets', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: sm }] : []),
  ];
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
    if (!/^http:\/\/[a-z0-9.-]+:\d+$/.test(args.embeddingServiceUrl)) throw new Error(`bad embedding service URL: ${args.embeddingServiceUrl}`);
    if (c.loadBalancers.length > 0 && c.port === undefined) throw new Error(`${c.kind}: a load balancer needs the container port`);
    const parent: pulumi.CustomResourceOptions = { parent: this, retainOnDelete: c.retainOnDelete };
    const tags = args.tags;

    const logGroupName: pulumi.Output<string> =
      c.logGroupName !== undefined
        ? pulumi.output(c.logGroupName)
        : new aws.cloudwatch.LogGroup(`${name}-logs`, { name: `/ecs/${c.serviceName}`, retentionInDays: args.logRetentionDays, tags }, parent).name;

    const executionRoleArn: pulumi.Output<string> =
      c.executionRoleArn !== undefined ? pulumi.output(c.executionRoleArn) : this.executionRole(name, c, parent, tags);

    const containerDefinitions = logGroupName.apply((group) =>
      JSON.stringify([
        clientContainer({
          name: c.kind,
          image: c.image,
          command: c.command,
          port: c.port,
          environment: c.environment,
          secrets: c.secrets,
          healthCheck: c.healthCheck,
          embeddingServiceUrl: args.embeddingServiceUrl,
          region: args.region,
          logGroupName: group,
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
        runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: c.cpuArchitecture },
        executionRoleArn,
        ...(c.taskRoleArn !== undefined ? { taskRoleArn: c.taskRoleArn } : {}),
        containerDefinitions,
        tags,
      },
      parent,
    );

    const placement =
      c.capacityProviderStrategy.length > 0
        ? { capacityProviderStrategies: c.capacityProviderStrategy.map((s) => ({ ...s })) }
        : { launchType: 'FARGATE' };
    this.service = new aws.ecs.Service(
      `${name}-service`,
      {
        name: c.serviceName,
        cluster: args.clusterArn,
        taskDefinition: taskDefinition.arn,
        ...placement,
        desiredCount: c.desiredCount,
        networkConfiguration: { subnets: args.subnetIds, securityGroups: [args.securityGroupId], assignPublicIp: c.assignPublicIp },
        ...(c.loadBalancers.length > 0
          ? { loadBalancers: c.loadBalancers.map((lb) => ({ targetGroupArn: lb.targetGroupArn, containerName: c.kind, containerPort: lb.containerPort })) }
          : {}),
        ...(c.healthCheckGracePeriodSeconds !== undefined ? { healthCheckGracePeriodSeconds: c.healthCheckGracePeriodSeconds } : {}),
        enableExecuteCommand: c.enableExecuteCommand,
        ...ZERO_GAP_ROLLOUT,
        propagateTags: 'SERVICE',
        tags,
      },
      { ...parent, dependsOn: args.rolloutAfter },
    );

    this.serviceName = this.service.name;
    this.taskDefinitionArn = taskDefinition.arn;
    this.logGroupName = logGroupName;
    this.registerOutputs({ serviceName: this.serviceName, taskDefinitionArn: this.taskDefinitionArn, logGroupName: this.logGroupName });
  }

  /** AWS's task execution policy (ECR pull from any repository of the account, logs) plus the client's secrets. */
  private executionRole(
    name: string,
    c: ClientConfig,
    parent: pulumi.CustomResourceOptions,
    tags: ClientServiceArgs['tags'],
  ): pulumi.Output<string> {
    const role = new aws.iam.Role(`${name}-execution-role`, { assumeRolePolicy: ASSUME_ECS_TASKS, tags }, parent);
    new aws.iam.RolePolicyAttachment(
      `${name}-execution-policy`,
      { role: role.name, policyArn: 'arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy' },
      parent,
    );
    const statements = secretsStatements(c.secrets);
    if (statements.length > 0) {
      new aws.iam.RolePolicy(
        `${name}-secrets-policy`,
        { role: role.id, policy: JSON.stringify({ Version: '2012-10-17', Statement: statements }) },
        parent,
      );
    }
    return role.arn;
  }
}
