/**
 * Assertions every stack must satisfy, whatever it takes from config and whatever it creates.
 * Each program test file runs the program once and calls `describeInvariants` with what it expects.
 */
import { healthCheckCommand } from '../../../infra/containers';
import { ProgramRun, RecordedResource, containersOf, envOf } from './harness';
// js-yaml ships with @pulumi/pulumi; it has no bundled types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml: { load(text: string): unknown } = require('js-yaml');

export const T = Object.freeze({
  ecsService: 'aws:ecs/service:Service',
  taskDefinition: 'aws:ecs/taskDefinition:TaskDefinition',
  securityGroup: 'aws:ec2/securityGroup:SecurityGroup',
  ingress: 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule',
  egress: 'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule',
  logGroup: 'aws:cloudwatch/logGroup:LogGroup',
  queryDefinition: 'aws:cloudwatch/queryDefinition:QueryDefinition',
  metricFilter: 'aws:cloudwatch/logMetricFilter:LogMetricFilter',
  alarm: 'aws:cloudwatch/metricAlarm:MetricAlarm',
  namespace: 'aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace',
  discovery: 'aws:servicediscovery/service:Service',
  rolePolicy: 'aws:iam/rolePolicy:RolePolicy',
  vpcEndpoint: 'aws:ec2/vpcEndpoint:VpcEndpoint',
  serviceVariable: 'pulumi-nodejs:dynamic/superschedules:ServiceVariable',
});

export interface Expectations {
  /** Security groups admitted to port 8003: the clients' (each once), or the created callers group. */
  readonly clientSecurityGroupIds: () => string[];
  /** The embedding task's own public IP (egress=public-ip). */
  readonly publicIp: boolean;
  readonly clusterArn: () => string;
  readonly clusterName: string;
  readonly namespaceId: () => string;
  readonly logRetentionDays: number;
  readonly cpu: string;
  readonly memory: string;
  readonly wired: boolean;
  readonly desiredCount: number;
  readonly imagePlatform: 'linux/amd64' | 'linux/arm64';
  readonly alarmTopicArn?: string;
}

/** What a run with the production stack file (`config`, possibly changed) must show: its values, unless `over` says otherwise. */
export function productionExpectations(config: Record<string, string>, over: Partial<Expectations> = {}): Expectations {
  return {
    clientSecurityGroupIds: () => [...new Set((JSON.parse(config['embedding:clients']) as { securityGroups: string[] }[]).flatMap((c) => c.securityGroups))],
    publicIp: config['embedding:egress'] === 'public-ip',
    clusterArn: () => config['embedding:clusterArn'],
    clusterName: config['embedding:clusterArn'].split(':cluster/')[1],
    namespaceId: () => config['embedding:namespaceId'],
    logRetentionDays: Number(config['embedding:logRetentionDays']),
    cpu: config['embedding:cpu'],
    memory: config['embedding:memory'],
    wired: config['embedding:wireClients'] === 'true',
    desiredCount: Number(config['embedding:desiredCount']),
    imagePlatform: config['embedding:imagePlatform'] as Expectations['imagePlatform'],
    alarmTopicArn: config['embedding:alarmTopicArn'],
    ...over,
  };
}

/** The embedding ECS service. */
export function embeddingService(run: ProgramRun): RecordedResource {
  return run.one(T.ecsService, 'embedding-service');
}

export function embeddingSecurityGroupId(run: ProgramRun): string {
  return run.one(T.securityGroup, 'embedding-sg').id;
}

export function describeInvariants(getRun: () => ProgramRun, x: Expectations): void {
  const run = () => getRun();

  describe('embedding ECS service', () => {
    it('runs the configured number of Fargate tasks, with no load balancer, in the cluster; a public IP only with egress=public-ip', () => {
      const svc = embeddingService(run()).inputs;
      expect(svc.name).toBe('embedding-service');
      expect(svc.desiredCount).toBe(x.desiredCount);
      expect(svc.launchType).toBe('FARGATE');
      expect(svc.cluster).toBe(x.clusterArn());
      expect(svc.loadBalancers ?? []).toEqual([]);
      expect(svc.networkConfiguration.assignPublicIp).toBe(x.publicIp);
      expect(svc.networkConfiguration.securityGroups).toEqual([embeddingSecurityGroupId(run())]);
    });

    it('starts the new task before stopping the old one, rolls back on failure, and waits for steady state', () => {
      const svc = embeddingService(run()).inputs;
      expect(svc.deploymentMinimumHealthyPercent).toBe(100);
      expect(svc.deploymentMaximumPercent).toBe(200);
      expect(svc.deploymentCircuitBreaker).toEqual({ enable: true, rollback: true });
      expect(svc.waitForSteadyState).toBe(true);
    });

    it('registers in Cloud Map', () => {
      const discovery = run().one(T.discovery, 'embedding-discovery');
      expect(embeddingService(run()).inputs.serviceRegistries.registryArn).toMatch(/^arn:aws:servicediscovery:.*:service\/srv-/);
      expect(embeddingService(run()).inputs.serviceRegistries.registryArn).toContain(discovery.id);
    });
  });

  it('creates no autoscaling and no load balancer resources at all', () => {
    const types = run().resources.map((r) => r.type);
    expect(types.filter((t) => t.startsWith('aws:appautoscaling'))).toEqual([]);
    expect(types.filter((t) => /^aws:(lb|alb|elb|elasticloadbalancing)/.test(t) || t.startsWith('awsx:lb'))).toEqual([]);
    for (const svc of run().ofType(T.ecsService)) expect(svc.inputs.loadBalancers ?? []).toEqual([]);
  });

  describe('embedding security group', () => {
    it('has no inline rules', () => {
      const sg = run().one(T.securityGroup, 'embedding-sg').inputs;
      expect(sg.ingress ?? []).toEqual([]);
      expect(sg.egress ?? []).toEqual([]);
    });

    it("admits exactly TCP 8003 from the clients' security groups, each once, and no CIDR", () => {
      const sgId = embeddingSecurityGroupId(run());
      const ingress = run().ofType(T.ingress).filter((r) => r.inputs.securityGroupId === sgId);
      expect(ingress).toHaveLength(x.clientSecurityGroupIds().length);
      for (const rule of ingress) {
        expect(rule.inputs).toMatchObject({ ipProtocol: 'tcp', fromPort: 8003, toPort: 8003 });
        expect(rule.inputs.cidrIpv4).toBeUndefined();
        expect(rule.inputs.cidrIpv6).toBeUndefined();
        expect(rule.inputs.prefixListId).toBeUndefined();
      }
      expect(ingress.map((r) => r.inputs.referencedSecurityGroupId).sort()).toEqual([...x.clientSecurityGroupIds()].sort());
    });

    it('lets out only HTTPS', () => {
      const sgId = embeddingSecurityGroupId(run());
      const egress = run().ofType(T.egress).filter((r) => r.inputs.securityGroupId === sgId);
      expect(egress.length).toBeGreaterThan(0);
      for (const rule of egress) expect(rule.inputs).toMatchObject({ ipProtocol: 'tcp', fromPort: 443, toPort: 443 });
    });

    it('no ingress rule anywhere opens a CIDR; only the VPC endpoints admit the VPC (its CIDR prefix list, HTTPS)', () => {
      const vpcLists = run().ofType('aws:ec2/managedPrefixList:ManagedPrefixList').map((l) => l.id);
      for (const rule of run().ofType(T.ingress)) {
        expect(rule.inputs.cidrIpv4).toBeUndefined();
        expect(rule.inputs.cidrIpv6).toBeUndefined();
        if (rule.inputs.prefixListId !== undefined) {
          expect(vpcLists).toContain(rule.inputs.prefixListId);
          expect(rule.inputs).toMatchObject({ ipProtocol: 'tcp', fromPort: 443, toPort: 443 });
          expect(run().byId(rule.inputs.securityGroupId)?.name).toBe('private-egress-sg');
        }
      }
      for (const sg of run().ofType(T.securityGroup)) expect(sg.inputs.ingress ?? []).toEqual([]);
    });
  });

  describe('embedding task definition', () => {
    const task = () => run().one(T.taskDefinition, 'embedding-task');
    const app = () => containersOf(task()).find((c) => c.name === 'embedding');
    const collector = () => containersOf(task()).find((c) => c.name === 'otel-collector');

    it('every task definition the stack registers stays registered when replaced (skipDestroy: the rollback target)', () => {
      expect(run().ofType(T.taskDefinition).length).toBeGreaterThan(0);
      for (const td of run().ofType(T.taskDefinition)) expect([td.name, td.inputs.skipDestroy]).toEqual([td.name, true]);
    });

    it('is a Fargate awsvpc task with the configured cpu and memory', () => {
      expect(task().inputs).toMatchObject({
        family: 'embedding-service',
        cpu: x.cpu,
        memory: x.memory,
        networkMode: 'awsvpc',
        requiresCompatibilities: ['FARGATE'],
      });
      expect(Number(task().inputs.cpu)).toBeGreaterThanOrEqual(512);
      expect(Number(task().inputs.memory)).toBeGreaterThanOrEqual(1024);
      expect(containersOf(task()).map((c) => c.name).sort()).toEqual(['embedding', 'otel-collector']);
    });

    it('runs the app on port 8003 with a /health check every 30 s (timeout 10, retries 3, start 30)', () => {
      expect(app().portMappings).toEqual([{ containerPort: 8003, hostPort: 8003, protocol: 'tcp', name: 'http' }]);
      expect(app().healthCheck).toMatchObject({ interval: 30, timeout: 10, retries: 3, startPeriod: 30 });
      const cmd: string[] = app().healthCheck.command;
      expect(cmd.slice(0, 2)).toEqual(['CMD', 'node']);
      expect(cmd).toEqual(healthCheckCommand(8003));
      expect(cmd.join(' ')).not.toMatch(/curl|wget/);
      expect(app().essential).toBe(true);
      expect(app().command).toBeUndefined(); // the image's CMD: one Node process
    });

    it('sets the app environment: model dir, port, log level, OTEL traces to the sidecar, no OTLP metrics', () => {
      const env = envOf(app());
      expect(env).toMatchObject({
        PORT: '8003',
        EMBEDDING_MODEL_DIR: '/app/models/all-MiniLM-L6-v2',
        LOG_LEVEL: 'info',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
        // Metrics go through the collector's scrape of /metrics, not also over OTLP.
        OTEL_METRICS_EXPORTER: 'none',
        OTEL_SERVICE_NAME: 'embedding-service',
        SHUTDOWN_GRACE_MS: '25000',
        // 512 CPU units = 0.5 vCPU: one onnxruntime thread (more would only contend).
        ORT_INTRA_OP_THREADS: '1',
        // As the image sets them: the model is in the image; onnxruntime's telemetry is off.
        MODEL_AUTO_DOWNLOAD: 'false',
        ORT_DISABLE_TELEMETRY: '1',
      });
    });

    it('runs as non-root on a read-only root filesystem without mounts (it writes nothing), and drains before SIGKILL', () => {
      expect(app().user).toBeDefined();
      expect(app().user).not.toMatch(/^(root|0)(:|$)/);
      expect(app().readonlyRootFilesystem).toBe(true);
      expect(app().mountPoints ?? []).toEqual([]);
      expect(task().inputs.volumes ?? []).toEqual([]);
      expect(app().stopTimeout).toBeGreaterThanOrEqual(30); // SHUTDOWN_GRACE_MS 25 s + slack
    });

    it('logs both containers with awslogs to /ecs/embedding-service', () => {
      for (const c of [app(), collector()]) {
        expect(c.logConfiguration.logDriver).toBe('awslogs');
        expect(c.logConfiguration.options['awslogs-group']).toBe('/ecs/embedding-service');
        expect(c.logConfiguration.options['awslogs-region']).toBe('us-east-1');
      }
    });

    it('runs the ADOT collector copy: traces over OTLP on loopback, metrics scraped from /metrics, X-Ray and EMF out', () => {
      expect(collector().image).toMatch(/^123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com\/embedding-service\/otel-collector@sha256:/);
      expect(collector().essential).toBe(false);
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const aot = yaml.load(envOf(collector()).AOT_CONFIG_CONTENT) as any;
      expect(aot.receivers.otlp.protocols.http.endpoint).toBe('127.0.0.1:4318');
      expect(aot.receivers.prometheus.config.scrape_configs[0].static_configs).toEqual([{ targets: ['127.0.0.1:8003'] }]);
      expect(aot.service.pipelines.traces).toMatchObject({ receivers: ['otlp'], exporters: ['awsxray'] });
      expect(aot.service.pipelines.metrics).toMatchObject({ receivers: ['prometheus'], exporters: ['awsemf'] });
      expect(aot.exporters.awsemf).toMatchObject({
        region: 'us-east-1',
        namespace: 'Superschedules/EmbeddingService',
        log_group_name: '/ecs/embedding-service/otel-metrics',
      });
      expect(app().dependsOn).toEqual([{ containerName: 'otel-collector', condition: 'START' }]);
    });
  });

  describe('IAM (least privilege)', () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const statements = (name: string): any[] => JSON.parse(run().one(T.rolePolicy, name).inputs.policy).Statement;

    it("execution role: pulls from the stack's two repositories only, writes logs to its own log group only", () => {
      const actions = statements('embedding-execution-policy').flatMap((s) => [s.Action].flat());
      expect(actions.filter((a: string) => !/^ecr:|^logs:(CreateLogStream|PutLogEvents)$/.test(a))).toEqual([]);
      const logs = statements('embedding-execution-policy').find((s) => s.Sid === 'Logs');
      expect(logs.Resource).toBe('arn:aws:logs:us-east-1:123456789012:log-group:/ecs/embedding-service:*');
      const pull = statements('embedding-execution-policy').find((s) => s.Sid === 'EcrPull');
      expect(pull.Resource).toEqual([
        'arn:aws:ecr:us-east-1:123456789012:repository/embedding-service',
        'arn:aws:ecr:us-east-1:123456789012:repository/embedding-service/otel-collector',
      ]);
    });

    it('task role: X-Ray and the metrics log group (EMF), no PutMetricData', () => {
      const st = statements('embedding-task-policy');
      const actions = st.flatMap((s) => [s.Action].flat());
      expect(actions.filter((a: string) => !/^xray:|^logs:/.test(a))).toEqual([]);
      expect(actions).not.toContain('*');
      expect(st.find((s) => s.Sid === 'EmfLogs').Resource).toEqual([
        'arn:aws:logs:us-east-1:123456789012:log-group:/ecs/embedding-service/otel-metrics',
        'arn:aws:logs:us-east-1:123456789012:log-group:/ecs/embedding-service/otel-metrics:*',
      ]);
    });
  });

  describe('Cloud Map', () => {
    it('service "embedding": multivalue A records with a short TTL in the namespace, custom health check (failureThreshold at the only value AWS uses)', () => {
      const d = run().one(T.discovery, 'embedding-discovery').inputs;
      expect(d.name).toBe('embedding');
      expect(d.dnsConfig.namespaceId).toBe(x.namespaceId());
      expect(d.dnsConfig.dnsRecords).toEqual([{ type: 'A', ttl: 10 }]);
      expect(d.dnsConfig.routingPolicy).toBe('MULTIVALUE');
      // Deprecated and fixed at 1 by AWS, yet required: the provider drops an empty block
      // (pulumi/pulumi-aws#6289), and without the block Cloud Map ignores task health.
      expect(d.healthCheckCustomConfig).toEqual({ failureThreshold: 1 });
      expect(d.healthCheckConfig).toBeUndefined();
    });
  });

  describe('CloudWatch', () => {
    it('log group /ecs/embedding-service with the configured retention', () => {
      const lg = run().one(T.logGroup, 'embedding-logs').inputs;
      expect(lg.name).toBe('/ecs/embedding-service');
      expect(lg.retentionInDays).toBe(x.logRetentionDays);
    });

    it('saved Logs Insights queries: errors, slow requests, one trace by id', () => {
      const queries = run().ofType(T.queryDefinition).map((q) => q.inputs);
      expect(queries.map((q) => q.name).sort()).toEqual([
        'embedding-service/errors',
        'embedding-service/slow-requests',
        'embedding-service/trace',
      ]);
      for (const q of queries) expect(q.logGroupNames).toEqual(['/ecs/embedding-service']);
      const byName = Object.fromEntries(queries.map((q) => [q.name, q.queryString as string]));
      expect(byName['embedding-service/errors']).toMatch(/level = "error"/);
      expect(byName['embedding-service/slow-requests']).toMatch(/duration_ms >= 1000/);
      expect(byName['embedding-service/trace']).toMatch(/trace_id = /);
    });

    it('a metric filter on 5xx log lines other than 503 and an alarm on it', () => {
      const filter = run().one(T.metricFilter, 'embedding-5xx-filter').inputs;
      expect(filter.logGroupName).toBe('/ecs/embedding-service');
      expect(filter.pattern).toBe('{ ($.status >= 500) && ($.status != 503) }');
      const alarm = run().one(T.alarm, 'embedding-5xx-alarm').inputs;
      expect(alarm).toMatchObject({
        namespace: filter.metricTransformation.namespace,
        metricName: filter.metricTransformation.name,
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    });

    it('an alarm when no task runs, on the service\'s own AWS/ECS metric (no Container Insights): no data is breaching', () => {
      const alarm = run().one(T.alarm, 'embedding-running-tasks-alarm').inputs;
      expect(alarm).toMatchObject({
        namespace: 'AWS/ECS',
        metricName: 'CPUUtilization',
        statistic: 'SampleCount',
        comparisonOperator: 'LessThanThreshold',
        threshold: 1,
        treatMissingData: 'breaching',
        dimensions: { ClusterName: x.clusterName, ServiceName: 'embedding-service' },
      });
    });

    it('every alarm notifies embedding:alarmTopicArn (alarm and OK), or nobody when unset', () => {
      for (const alarm of run().ofType(T.alarm)) {
        expect(alarm.inputs.alarmActions).toEqual(x.alarmTopicArn === undefined ? [] : [x.alarmTopicArn]);
        expect(alarm.inputs.okActions).toEqual(alarm.inputs.alarmActions);
      }
    });

    it('an alarm on the queue depth the collector publishes (awsemf, no dimensions); no data alarms too', () => {
      const alarm = run().one(T.alarm, 'embedding-queue-alarm').inputs;
      expect(alarm).toMatchObject({
        namespace: 'Superschedules/EmbeddingService',
        metricName: 'embedding_queued_texts',
        statistic: 'Maximum',
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
        threshold: 1024,
        treatMissingData: 'breaching',
      });
      expect(alarm.dimensions ?? {}).toEqual({});
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const aot = yaml.load(envOf(containersOf(run().one(T.taskDefinition, 'embedding-task'))[1]).AOT_CONFIG_CONTENT) as any;
      const declaration = aot.exporters.awsemf.metric_declarations.find((d: { metric_name_selectors: string[] }) =>
        d.metric_name_selectors.some((r) => new RegExp(r.replace(/\$\$$/, '$')).test(alarm.metricName)),
      );
      expect(declaration.dimensions).toEqual([[]]);
      expect(aot.exporters.awsemf.namespace).toBe(alarm.namespace);
    });
  });

  describe('clients', () => {
    it('stage 2 sets one variable per client, after the embedding service; stage 1 touches no client', () => {
      const variables = run().ofType(T.serviceVariable);
      if (!x.wired) {
        expect(variables).toEqual([]);
        return;
      }
      expect(variables.length).toBeGreaterThan(0);
      for (const v of variables) {
        expect(v.inputs).toMatchObject({ variable: 'EMBEDDING_SERVICE_URL', value: 'http://embedding.superschedules.local:8003' });
        expect(v.dependencies).toContain(embeddingService(run()).urn);
      }
    });

    it('declares no ECS service, task definition, log group or role of a client', () => {
      expect(run().ofType(T.ecsService).map((r) => r.name)).toEqual(['embedding-service']);
      expect(run().ofType(T.taskDefinition).map((r) => r.name)).toEqual(['embedding-task']);
      expect(run().ofType(T.logGroup).map((r) => r.inputs.name).sort()).toEqual(['/ecs/embedding-service', '/ecs/embedding-service/otel-metrics']);
      expect(run().ofType('aws:iam/role:Role').map((r) => r.name).sort()).toEqual(['embedding-execution-role', 'embedding-task-role']);
      expect(run().resources.filter((r) => r.retainOnDelete).map((r) => r.name)).toEqual([]);
    });
  });

  it('exports the service URL, log group, cluster and service names and query names', () => {
    expect(run().outputs).toMatchObject({
      serviceUrl: 'http://embedding.superschedules.local:8003',
      logGroupName: '/ecs/embedding-service',
      clusterName: x.clusterName,
      serviceName: 'embedding-service',
      queryNames: ['embedding-service/errors', 'embedding-service/slow-requests', 'embedding-service/trace'],
      alarmNames: ['embedding-service-5xx', 'embedding-service-running-tasks', 'embedding-service-queue'],
      clientsWired: x.wired,
    });
  });

  it('builds the image from the root Dockerfile into a scanned ECR repository', () => {
    const image = run().one('awsx:ecr:Image', 'embedding-image').inputs;
    expect(image.dockerfile).toMatch(/\/Dockerfile$/);
    expect(image.repositoryUrl).toBe('123456789012.dkr.ecr.us-east-1.amazonaws.com/embedding-service');
    expect(image.platform).toBe(x.imagePlatform);
    expect(run().one('aws:ecr/repository:Repository', 'embedding-repo').inputs.imageScanningConfiguration).toEqual({ scanOnPush: true });
  });

  it('copies the pinned ADOT collector into its own repository, for the same platform', () => {
    const copy = run().one('awsx:ecr:Image', 'otel-collector-image').inputs;
    expect(copy.dockerfile).toMatch(/\/infra\/collector\/Dockerfile$/);
    expect(copy.context).toMatch(/\/infra\/collector$/);
    expect(copy.platform).toBe(x.imagePlatform);
    expect(copy.args).toEqual({ COLLECTOR_IMAGE: 'public.ecr.aws/aws-observability/aws-otel-collector:v0.49.0' });
    expect(copy.repositoryUrl).toBe('123456789012.dkr.ecr.us-east-1.amazonaws.com/embedding-service/otel-collector');
  });

  it('parents every AWS resource to one of the program components', () => {
    for (const r of run().resources.filter((r) => r.custom)) {
      expect(`${r.name} ${r.parent}`).toMatch(/::superschedules:embedding:[A-Za-z]+::/);
    }
  });
}
