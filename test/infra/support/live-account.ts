/**
 * The production account as the tests see it: three live client services in the cluster
 * (Django, chat, the Celery workers; Django and Celery share a security group), with task
 * definitions as rich as real ones (sidecars, secrets, volumes, FireLens, environment files, tags,
 * ephemeral storage) in the shape DescribeServices / DescribeTaskDefinition return them. The Pulumi
 * mocks answer the data sources from it and the fake ECS endpoint serves it.
 */
import type { Service, Tag, TaskDefinition } from '@aws-sdk/client-ecs';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
export const CLUSTER_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/superschedules-prod`;
/** Django and the Celery workers run in it; the ALB-targets group is Django's second one. */
export const APP_SG = 'sg-0d1a2b3c4d5e6f701';
export const CHAT_SG = 'sg-0c1a2b3c4d5e6f702';
export const ALB_TARGETS_SG = 'sg-0a1b2c3d4e5f6f703';
export const PUBLIC_SUBNETS = ['subnet-0a1b2c3d4e5f60001', 'subnet-0a1b2c3d4e5f60002'];

const taskDefinitionArn = (family: string, revision: number) => `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${family}:${revision}`;
const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const secret = (name: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}`;
const parameter = (name: string) => `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/${name}`;

/** A task definition as DescribeTaskDefinition returns it, read-only fields included (JSON: dates as epoch seconds). */
export interface LiveDefinition {
  readonly taskDefinition: TaskDefinition;
  readonly tags: Tag[];
}

function fargateDefinition(family: string, revision: number, rest: Partial<TaskDefinition>, tags: Tag[]): LiveDefinition {
  return {
    taskDefinition: {
      taskDefinitionArn: taskDefinitionArn(family, revision),
      family,
      revision,
      status: 'ACTIVE',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      compatibilities: ['EC2', 'FARGATE'],
      requiresAttributes: [
        { name: 'com.amazonaws.ecs.capability.logging-driver.awslogs' },
        { name: 'ecs.capability.secrets.asm.environment-variables' },
        { name: 'com.amazonaws.ecs.capability.docker-remote-api.1.19' },
      ],
      placementConstraints: [],
      runtimePlatform: { cpuArchitecture: 'X86_64', operatingSystemFamily: 'LINUX' },
      registeredBy: `arn:aws:sts::${ACCOUNT}:assumed-role/github-deploy/ci`,
      ...rest,
      registeredAt: 1_764_000_000.123,
    } as unknown as TaskDefinition,
    tags,
  };
}

const awslogs = (group: string, prefix: string) => ({
  logDriver: 'awslogs' as const,
  options: { 'awslogs-group': group, 'awslogs-region': REGION, 'awslogs-stream-prefix': prefix },
  secretOptions: [],
});

export const DJANGO = fargateDefinition(
  'superschedules-django',
  41,
  {
    cpu: '1024',
    memory: '2048',
    taskRoleArn: role('superschedules-django-task'),
    executionRoleArn: role('superschedules-ecs-execution'),
    ephemeralStorage: { sizeInGiB: 30 },
    volumes: [
      { name: 'media', efsVolumeConfiguration: { fileSystemId: 'fs-0123456789abcdef0', transitEncryption: 'ENABLED', authorizationConfig: { accessPointId: 'fsap-0123456789abcdef0', iam: 'ENABLED' } } },
      { name: 'scratch', host: {} },
    ],
    containerDefinitions: [
      {
        name: 'django',
        image: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/superschedules-api:main-3e26f35`,
        cpu: 0,
        essential: true,
        command: ['gunicorn', 'config.asgi:application', '-k', 'uvicorn.workers.UvicornWorker', '-b', '0.0.0.0:8000', '--workers', '3'],
        portMappings: [{ containerPort: 8000, hostPort: 8000, protocol: 'tcp', name: 'http', appProtocol: 'http' }],
        environment: [
          { name: 'DB_HOST', value: 'superschedules.cluster-abc.us-east-1.rds.amazonaws.com' },
          { name: 'USE_SQS_BROKER', value: 'True' },
          { name: 'AWS_REGION', value: REGION },
        ],
        environmentFiles: [{ value: `arn:aws:s3:::superschedules-config/django.env`, type: 's3' }],
        secrets: [
          { name: 'DJANGO_SECRET_KEY', valueFrom: parameter('prod/django/secret-key') },
          { name: 'DB_PASSWORD', valueFrom: `${secret('prod/db-AbCdEf')}:password::` },
        ],
        mountPoints: [
          { sourceVolume: 'media', containerPath: '/app/media', readOnly: false },
          { sourceVolume: 'scratch', containerPath: '/tmp', readOnly: false },
        ],
        volumesFrom: [],
        dependsOn: [{ containerName: 'log-router', condition: 'START' }],
        healthCheck: { command: ['CMD-SHELL', 'curl -f http://localhost:8000/api/live || exit 1'], interval: 30, timeout: 5, retries: 3, startPeriod: 60 },
        ulimits: [{ name: 'nofile', softLimit: 65536, hardLimit: 65536 }],
        logConfiguration: { logDriver: 'awsfirelens', options: { Name: 'cloudwatch_logs', region: REGION, log_group_name: '/ecs/superschedules-django', auto_create_group: 'false' } },
        systemControls: [],
      },
      {
        name: 'log-router',
        image: 'public.ecr.aws/aws-observability/aws-for-fluent-bit:stable',
        cpu: 0,
        memoryReservation: 50,
        essential: true,
        user: '0',
        environment: [],
        mountPoints: [],
        volumesFrom: [],
        firelensConfiguration: { type: 'fluentbit', options: { 'enable-ecs-log-metadata': 'true' } },
        logConfiguration: awslogs('/ecs/superschedules-firelens', 'firelens'),
        systemControls: [],
      },
    ],
  },
  [
    { key: 'team', value: 'backend' },
    { key: 'aws:cloudformation:stack-name', value: 'superschedules-prod' },
  ],
);

export const CHAT = fargateDefinition(
  'superschedules-chat',
  17,
  {
    cpu: '512',
    memory: '1024',
    taskRoleArn: role('superschedules-chat-task'),
    executionRoleArn: role('superschedules-ecs-execution'),
    volumes: [],
    containerDefinitions: [
      {
        name: 'chat',
        image: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/superschedules-api:main-3e26f35`,
        cpu: 0,
        essential: true,
        command: ['python', '-m', 'uvicorn', 'chat_service.app:app', '--host', '0.0.0.0', '--port', '8002', '--workers', '2'],
        portMappings: [{ containerPort: 8002, hostPort: 8002, protocol: 'tcp' }],
        environment: [{ name: 'DB_HOST', value: 'superschedules.cluster-abc.us-east-1.rds.amazonaws.com' }],
        secrets: [
          { name: 'DJANGO_SECRET_KEY', valueFrom: parameter('prod/django/secret-key') },
          { name: 'OPENAI_API_KEY', valueFrom: secret('prod/openai-XyZ123') },
        ],
        mountPoints: [],
        volumesFrom: [],
        healthCheck: { command: ['CMD-SHELL', 'curl -f http://localhost:8002/api/v1/chat/health || exit 1'], interval: 30, timeout: 10, retries: 3, startPeriod: 10 },
        logConfiguration: awslogs('/ecs/superschedules-chat', 'chat'),
        dockerLabels: { 'com.datadoghq.ad.logs': '[{"source":"python"}]' },
        systemControls: [],
      },
      {
        name: 'datadog-agent',
        image: 'public.ecr.aws/datadog/agent:7',
        cpu: 0,
        memory: 256,
        essential: false,
        environment: [
          { name: 'ECS_FARGATE', value: 'true' },
          { name: 'DD_SITE', value: 'datadoghq.com' },
        ],
        secrets: [{ name: 'DD_API_KEY', valueFrom: secret('prod/datadog-QwErTy') }],
        mountPoints: [],
        volumesFrom: [],
        logConfiguration: awslogs('/ecs/superschedules-chat', 'datadog'),
        systemControls: [],
      },
    ],
  },
  [{ key: 'team', value: 'backend' }],
);

export const CELERY = fargateDefinition(
  'superschedules-celery-worker',
  9,
  {
    cpu: '1024',
    memory: '3072',
    taskRoleArn: role('superschedules-celery-task'),
    executionRoleArn: role('superschedules-ecs-execution'),
    volumes: [],
    containerDefinitions: [
      {
        name: 'celery-worker',
        image: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/superschedules-api:main-3e26f35`,
        cpu: 0,
        essential: true,
        command: ['celery', '-A', 'config', 'worker', '--loglevel=INFO', '--concurrency=2', '--queues=default,embeddings,geocoding,scraping'],
        environment: [
          { name: 'DB_HOST', value: 'superschedules.cluster-abc.us-east-1.rds.amazonaws.com' },
          { name: 'USE_SQS_BROKER', value: 'True' },
        ],
        secrets: [
          { name: 'DJANGO_SECRET_KEY', valueFrom: parameter('prod/django/secret-key') },
          { name: 'DB_PASSWORD', valueFrom: `${secret('prod/db-AbCdEf')}:password::` },
        ],
        mountPoints: [],
        volumesFrom: [],
        stopTimeout: 120,
        linuxParameters: { initProcessEnabled: true },
        logConfiguration: awslogs('/ecs/superschedules-celery', 'celery'),
        systemControls: [],
      },
    ],
  },
  [{ key: 'team', value: 'backend' }],
);

export const LIVE_DEFINITIONS: readonly LiveDefinition[] = [DJANGO, CHAT, CELERY];

/** The live services as DescribeServices returns them. */
export const LIVE_SERVICES: readonly Service[] = [
  liveService('superschedules-django', DJANGO, [APP_SG, ALB_TARGETS_SG], {
    loadBalancers: [{ targetGroupArn: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/superschedules-django/0123456789abcdef`, containerName: 'django', containerPort: 8000 }],
    serviceRegistries: [{ registryArn: `arn:aws:servicediscovery:${REGION}:${ACCOUNT}:service/srv-djangoapi0000001` }],
    desiredCount: 2,
    enableExecuteCommand: true,
  }),
  liveService('superschedules-chat', CHAT, [CHAT_SG], {
    serviceRegistries: [{ registryArn: `arn:aws:servicediscovery:${REGION}:${ACCOUNT}:service/srv-chat000000000001` }],
  }),
  liveService('superschedules-celery-worker', CELERY, [APP_SG], { desiredCount: 2 }),
];

function liveService(name: string, definition: LiveDefinition, securityGroups: string[], rest: Partial<Service>): Service {
  const desiredCount = rest.desiredCount ?? 1;
  const arn = definition.taskDefinition.taskDefinitionArn as string;
  return {
    serviceArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/superschedules-prod/${name}`,
    serviceName: name,
    clusterArn: CLUSTER_ARN,
    status: 'ACTIVE',
    launchType: 'FARGATE',
    platformVersion: 'LATEST',
    taskDefinition: arn,
    desiredCount,
    runningCount: desiredCount,
    pendingCount: 0,
    deploymentController: { type: 'ECS' },
    deploymentConfiguration: { maximumPercent: 200, minimumHealthyPercent: 100, deploymentCircuitBreaker: { enable: true, rollback: true } },
    deployments: [{ id: `ecs-svc/${name}`, status: 'PRIMARY', taskDefinition: arn, desiredCount, runningCount: desiredCount, pendingCount: 0, rolloutState: 'COMPLETED' }],
    networkConfiguration: { awsvpcConfiguration: { subnets: [...PUBLIC_SUBNETS], securityGroups, assignPublicIp: 'ENABLED' } },
    loadBalancers: [],
    serviceRegistries: [],
    schedulingStrategy: 'REPLICA',
    propagateTags: 'SERVICE',
    enableECSManagedTags: true,
    ...rest,
  };
}

/** The embedding service as DescribeServices reports it once stage 1 is up (steady). */
export const EMBEDDING_SERVICE: Service = {
  ...LIVE_SERVICES[2],
  serviceName: 'embedding-service',
  serviceArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/superschedules-prod/embedding-service`,
  taskDefinition: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/embedding-service:1`,
};

/** The production config's client entries, matching the live account. */
export const PROD_CLIENTS = [
  { service: 'superschedules-django', containers: ['django'], securityGroups: [APP_SG] },
  { service: 'superschedules-chat', containers: ['chat'], securityGroups: [CHAT_SG] },
  { service: 'superschedules-celery-worker', containers: ['celery-worker'], securityGroups: [APP_SG] },
];
