/**
 * The production config as an operator adopting the live services would write it: the VPC already
 * has the CloudWatch Logs and S3 endpoints (reused, not created), three embedding tasks, and
 * Django/chat definitions that mirror what the live services use (issue 8, items 1, 6 and 10).
 */
import { ProgramRun, S3_PREFIX_LIST_ID, containersOf, runProgram, stackConfigFile, toConfigMap } from './support/harness';
import { T, embeddingSecurityGroupId, embeddingService } from './support/invariants';

const prod = stackConfigFile('prod');
const targetGroupArn = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/superschedules-django/0123456789abcdef';
const djangoSecrets = {
  DATABASE_URL: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/django/database-AbCdEf:url::',
  DJANGO_SECRET_KEY: 'arn:aws:ssm:us-east-1:123456789012:parameter/prod/django/secret-key',
};
const config = {
  ...prod,
  ...toConfigMap({
    'embedding:existingEndpoints': ['logs', 's3'],
    'embedding:desiredCount': 3,
    'embedding:django': {
      ...JSON.parse(prod['embedding:django']),
      taskRoleArn: 'arn:aws:iam::123456789012:role/superschedules-django-task',
      secrets: djangoSecrets,
      healthCheck: { command: ['CMD-SHELL', 'python -c "print(1)"'], interval: 30, retries: 3, startPeriod: 60 },
      loadBalancers: [{ targetGroupArn }],
      healthCheckGracePeriodSeconds: 60,
      enableExecuteCommand: true,
      capacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1, base: 1 }],
    },
    'embedding:chat': {
      ...JSON.parse(prod['embedding:chat']),
      executionRoleArn: 'arn:aws:iam::123456789012:role/superschedules-chat-execution',
      logGroupName: '/ecs/chat-prod',
      cpuArchitecture: 'ARM64',
    },
  }),
};
let run: ProgramRun;

beforeAll(async () => {
  run = await runProgram(config, 'prod');
});

describe('reusing endpoints the VPC already has', () => {
  it('creates only the missing ones, and looks the reused ones up (the deploy fails early if one is missing)', () => {
    expect(run.ofType(T.vpcEndpoint).map((e) => e.inputs.serviceName).sort()).toEqual(
      ['ecr.api', 'ecr.dkr', 'xray'].map((s) => `com.amazonaws.us-east-1.${s}`),
    );
    expect(run.calls.filter((c) => c.token === 'aws:ec2/getVpcEndpoint:getVpcEndpoint').map((c) => c.inputs.serviceName).sort()).toEqual([
      'com.amazonaws.us-east-1.logs',
      'com.amazonaws.us-east-1.s3',
    ]);
  });

  it('the task still reaches them: 443 to the VPC and to the S3 prefix list', () => {
    const egress = run.ofType(T.egress).filter((r) => r.inputs.securityGroupId === embeddingSecurityGroupId(run));
    expect(egress.map((r) => r.inputs.prefixListId).sort()).toEqual(
      [run.one('aws:ec2/managedPrefixList:ManagedPrefixList', 'private-egress-vpc-cidrs').id, S3_PREFIX_LIST_ID].sort(),
    );
  });
});

describe('scale-out', () => {
  it('runs desiredCount tasks behind the multivalue Cloud Map name', () => {
    expect(embeddingService(run).inputs.desiredCount).toBe(3);
    expect(run.one(T.discovery, 'embedding-discovery').inputs.dnsConfig.routingPolicy).toBe('MULTIVALUE');
  });
});

describe('clients mirror the live services', () => {
  const task = (kind: string) => run.one(T.taskDefinition, `${kind}-task`).inputs;
  const service = (kind: string) => run.one(T.ecsService, `${kind}-service`).inputs;

  it('Django: secrets, health check and task role in the task definition', () => {
    const [container] = containersOf(run.one(T.taskDefinition, 'django-task'));
    expect(container.secrets).toEqual(Object.entries(djangoSecrets).map(([name, valueFrom]) => ({ name, valueFrom })));
    expect(container.healthCheck).toEqual({ command: ['CMD-SHELL', 'python -c "print(1)"'], interval: 30, retries: 3, startPeriod: 60 });
    expect(task('django').taskRoleArn).toBe('arn:aws:iam::123456789012:role/superschedules-django-task');
  });

  it("Django: its created execution role may read exactly its secrets (the secret's ARN without the JSON key)", () => {
    const policy = JSON.parse(run.one(T.rolePolicy, 'django-secrets-policy').inputs.policy);
    expect(policy.Statement).toEqual([
      { Sid: 'SsmParameters', Effect: 'Allow', Action: 'ssm:GetParameters', Resource: [djangoSecrets.DJANGO_SECRET_KEY] },
      {
        Sid: 'Secrets',
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: ['arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/django/database-AbCdEf'],
      },
    ]);
  });

  it('Django: load balancer, grace period, ECS Exec and capacity providers on the service', () => {
    expect(service('django')).toMatchObject({
      loadBalancers: [{ targetGroupArn, containerName: 'django', containerPort: 8000 }],
      healthCheckGracePeriodSeconds: 60,
      enableExecuteCommand: true,
      capacityProviderStrategies: [{ capacityProvider: 'FARGATE', weight: 1, base: 1 }],
    });
    expect(service('django').launchType).toBeUndefined();
    expect(service('chat').launchType).toBe('FARGATE');
  });

  it("chat: the live execution role and log group, none created; its own architecture", () => {
    expect(task('chat').executionRoleArn).toBe('arn:aws:iam::123456789012:role/superschedules-chat-execution');
    expect(run.resources.filter((r) => r.name.startsWith('chat-') && /Role|LogGroup|RolePolicy/.test(r.type))).toEqual([]);
    expect(containersOf(run.one(T.taskDefinition, 'chat-task'))[0].logConfiguration.options['awslogs-group']).toBe('/ecs/chat-prod');
    expect(task('chat').runtimePlatform.cpuArchitecture).toBe('ARM64');
    expect(task('django').runtimePlatform.cpuArchitecture).toBe('X86_64');
  });
});
