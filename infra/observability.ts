/**
 * CloudWatch for the embedding service: its log group, the collector's metrics log group, saved
 * Logs Insights queries, a 5xx metric filter with its alarm, and a running-task-count alarm.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

export interface ObservabilityArgs {
  /** `/ecs/embedding-service` */
  readonly logGroupName: string;
  readonly retentionDays: pulumi.Input<number>;
  readonly clusterName: pulumi.Input<string>;
  readonly serviceName: string;
  readonly metricsNamespace: string;
  /** A request slower than this (ms) shows in the slow-requests query. */
  readonly slowRequestMs: number;
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

/** Metric filter pattern: a JSON log line whose `status` is a 5xx. */
export const SERVER_ERROR_PATTERN = '{ $.status >= 500 }';
export const SERVER_ERROR_METRIC = 'ServerErrors';

export class Observability extends pulumi.ComponentResource {
  public readonly logGroupName: pulumi.Output<string>;
  public readonly logGroupArn: pulumi.Output<string>;
  public readonly metricsLogGroupName: pulumi.Output<string>;
  public readonly metricsLogGroupArn: pulumi.Output<string>;
  public readonly queryNames: string[];
  public readonly serverErrorAlarmName: pulumi.Output<string>;
  public readonly runningTasksAlarmName: pulumi.Output<string>;

  constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super('superschedules:embedding:Observability', name, args, opts);
    if (!args.logGroupName.startsWith('/')) throw new Error(`log group name must start with "/": ${args.logGroupName}`);
    if (!(args.slowRequestMs > 0)) throw new Error(`slowRequestMs must be positive: ${args.slowRequestMs}`);
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
        alarmDescription: `${args.serviceName} answered 5xx (log lines with status >= 500)`,
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

    // ECS/ContainerInsights needs Container Insights on the cluster (enabled on a cluster this stack
    // creates; see docs/deploy.md for an existing one). No data means no task: breaching.
    const runningTasks = new aws.cloudwatch.MetricAlarm(
      `${name}-running-tasks-alarm`,
      {
        name: `${args.serviceName}-running-tasks`,
        alarmDescription: `${args.serviceName} has fewer than 1 running task`,
        namespace: 'ECS/ContainerInsights',
        metricName: 'RunningTaskCount',
        dimensions: { ClusterName: args.clusterName, ServiceName: args.serviceName },
        statistic: 'Minimum',
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

    this.logGroupName = logGroup.name;
    this.logGroupArn = logGroup.arn;
    this.metricsLogGroupName = metricsLogGroup.name;
    this.metricsLogGroupArn = metricsLogGroup.arn;
    this.serverErrorAlarmName = serverErrors.name;
    this.runningTasksAlarmName = runningTasks.name;
    this.registerOutputs({
      logGroupName: this.logGroupName,
      metricsLogGroupName: this.metricsLogGroupName,
      queryNames: this.queryNames,
      serverErrorAlarmName: this.serverErrorAlarmName,
      runningTasksAlarmName: this.runningTasksAlarmName,
    });
  }
}
