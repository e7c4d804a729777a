/**
 * CloudWatch for the embedding service: its log group, the collector's metrics log group, saved
 * Logs Insights queries, and three alarms, each on a metric that really arrives:
 * - 5xx: a metric filter on the app's own JSON request log lines (awslogs, whatever the collector
 *   does), counting server faults: status >= 500 except 503. 503 is the service's "retry later"
 *   (`Retry-After`): the model still loading or the process draining (ECS health checks during
 *   every deploy) or the queue full (the queue alarm's business). Client hang-ups log 499.
 * - running tasks: the service's own AWS/ECS CPUUtilization, which ECS publishes every minute
 *   while at least one task of the service is RUNNING and not at all otherwise; no data means no
 *   running task (breaching). No Container Insights needed (a paid, cluster-wide setting).
 * - queue: the app's `embedding_queued_texts` gauge, scraped by the collector and published by
 *   awsemf without dimensions; a deep queue for 5 minutes, or no data at all (the collector or its
 *   export is down), alarms.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { EXPORTED_METRICS, QUEUED_TEXTS_METRIC } from './metrics';

export interface ObservabilityArgs {
  /** `/ecs/embedding-service` */
  readonly logGroupName: string;
  readonly retentionDays: pulumi.Input<number>;
  readonly clusterName: pulumi.Input<string>;
  readonly serviceName: string;
  readonly metricsNamespace: string;
  /** A request slower than this (ms) shows in the slow-requests query. */
  readonly slowRequestMs: number;
  /** Queued texts that, held for 5 minutes, mean the service needs more tasks. */
  readonly queueAlarmTexts: number;
  /** SNS topic notified by the alarms (none when unset). */
  readonly alarmTopicArn?: pulumi.Input<string>;
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** Logs Insights query strings over the app's winston JSON lines. Pure, exported for tests. */
export function insightsQueries(slowRequestMs: number): Readonly<Record<'errors' | 'slow-requests' | 'trace', string>> {
  return Object.freeze({
    errors: [
      'fields @timestamp, level, message, status, trace_id, @logStream',
      '| filter level = "error" or status >= 500',
      '| sort @timestamp desc',
      '| limit 200',
    ].join('\n'),
    'slow-requests': [
      'fields @timestamp, message, status, duration_ms, trace_id',
      `| filter ispresent(duration_ms) and duration_ms >= ${slowRequestMs}`,
      '| sort duration_ms desc',
      '| limit 200',
    ].join('\n'),
    trace: [
      'fields @timestamp, level, message, status, duration_ms, @logStream',
      '| filter trace_id = "REPLACE_WITH_TRACE_ID"',
      '| sort @timestamp asc',
    ].join('\n'),
  });
}

/** Metric filter pattern: a JSON request log line whose `status` is a 5xx other than 503. */
export const SERVER_ERROR_PATTERN = '{ ($.status >= 500) && ($.status != 503) }';
export const SERVER_ERROR_METRIC = 'ServerErrors';

export class Observability extends pulumi.ComponentResource {
  public readonly logGroupName: pulumi.Output<string>;
  public readonly logGroupArn: pulumi.Output<string>;
  public readonly metricsLogGroupName: pulumi.Output<string>;
  public readonly metricsLogGroupArn: pulumi.Output<string>;
  public readonly queryNames: string[];
  public readonly serverErrorAlarmName: pulumi.Output<string>;
  public readonly runningTasksAlarmName: pulumi.Output<string>;
  public readonly queueAlarmName: pulumi.Output<string>;

  constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super('superschedules:embedding:Observability', name, args, opts);
    if (!args.logGroupName.startsWith('/')) throw new Error(`log group name must start with "/": ${args.logGroupName}`);
    if (!(args.slowRequestMs > 0)) throw new Error(`slowRequestMs must be positive: ${args.slowRequestMs}`);
    if (!(args.queueAlarmTexts > 0)) throw new Error(`queueAlarmTexts must be positive: ${args.queueAlarmTexts}`);
    const queued = EXPORTED_METRICS.find((m) => m.name === QUEUED_TEXTS_METRIC);
    if (queued === undefined || !queued.dimensions.some((set) => set.length === 0)) {
      throw new Error(`${QUEUED_TEXTS_METRIC} must be exported without dimensions for the queue alarm`);
    }
    const parent = { parent: this };

    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: args.logGroupName, retentionInDays: args.retentionDays, tags: args.tags },
      parent,
    );
    const metricsLogGroup = new aws.cloudwatch.LogGroup(
      `${name}-metrics-logs`,
      { name: `${args.logGroupName}/otel-metrics`, retentionInDays: args.retentionDays, tags: args.tags },
      parent,
    );

    const queries = insightsQueries(args.slowRequestMs);
    this.queryNames = Object.keys(queries).map((key) => `${args.serviceName}/${key}`);
    for (const [key, queryString] of Object.entries(queries)) {
      new aws.cloudwatch.QueryDefinition(
        `${name}-query-${key}`,
        { name: `${args.serviceName}/${key}`, logGroupNames: [logGroup.name], queryString },
        parent,
      );
    }

    const filter = new aws.cloudwatch.LogMetricFilter(
      `${name}-5xx-filter`,
      {
        logGroupName: logGroup.name,
        pattern: SERVER_ERROR_PATTERN,
        metricTransformation: {
          name: SERVER_ERROR_METRIC,
          namespace: args.metricsNamespace,
          value: '1',
          defaultValue: '0',
          unit: 'Count',
        },
      },
      parent,
    );
    const actions = args.alarmTopicArn !== undefined ? [args.alarmTopicArn] : [];

    const serverErrors = new aws.cloudwatch.MetricAlarm(
      `${name}-5xx-alarm`,
      {
        name: `${args.serviceName}-5xx`,
        alarmDescription: `${args.serviceName} answered 5xx other than 503 (request log lines with status >= 500, != 503)`,
        namespace: args.metricsNamespace,
        metricName: SERVER_ERROR_METRIC,
        statistic: 'Sum',
        period: 300,
        evaluationPeriods: 1,
        threshold: 5,
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
        treatMissingData: 'notBreaching',
        alarmActions: actions,
        okActions: actions,
        tags: args.tags,
      },
      { parent: this, dependsOn: [filter] },
    );

    // AWS/ECS service metrics arrive once a minute while a task of the service runs, never otherwise
    // (Amazon ECS CloudWatch metrics): three minutes without a data point is no running task.
    const runningTasks = new aws.cloudwatch.MetricAlarm(
      `${name}-running-tasks-alarm`,
      {
        name: `${args.serviceName}-running-tasks`,
        alarmDescription: `${args.serviceName} has no running task (no AWS/ECS CPUUtilization data point for 3 minutes)`,
        namespace: 'AWS/ECS',
        metricName: 'CPUUtilization',
        dimensions: { ClusterName: args.clusterName, ServiceName: args.serviceName },
        statistic: 'SampleCount',
        period: 60,
        evaluationPeriods: 3,
        threshold: 1,
        comparisonOperator: 'LessThanThreshold',
        treatMissingData: 'breaching',
        alarmActions: actions,
        okActions: actions,
        tags: args.tags,
      },
      parent,
    );

    const queue = new aws.cloudwatch.MetricAlarm(
      `${name}-queue-alarm`,
      {
        name: `${args.serviceName}-queue`,
        alarmDescription:
          `${args.serviceName}: ${args.queueAlarmTexts}+ texts queued for 5 minutes (add tasks: embedding:desiredCount), ` +
          'or no metrics from the collector',
        namespace: args.metricsNamespace,
        metricName: QUEUED_TEXTS_METRIC,
        statistic: 'Maximum',
        period: 60,
        evaluationPeriods: 5,
        threshold: args.queueAlarmTexts,
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
        treatMissingData: 'breaching',
        alarmActions: actions,
        okActions: actions,
        tags: args.tags,
      },
      parent,
    );

    this.logGroupName = logGroup.name;
    this.logGroupArn = logGroup.arn;
    this.metricsLogGroupName = metricsLogGroup.name;
    this.metricsLogGroupArn = metricsLogGroup.arn;
    this.serverErrorAlarmName = serverErrors.name;
    this.runningTasksAlarmName = runningTasks.name;
    this.queueAlarmName = queue.name;
    this.registerOutputs({
      queueAlarmName: this.queueAlarmName,
      logGroupName: this.logGroupName,
      metricsLogGroupName: this.metricsLogGroupName,
      queryNames: this.queryNames,
      serverErrorAlarmName: this.serverErrorAlarmName,
      runningTasksAlarmName: this.runningTasksAlarmName,
    });
  }
}
