/**
 * Alarms and the dashboard of a JobQueue, following the alerting table of the design docs:
 * queue depth for 5 minutes, oldest message age over the lane objective, any message in a DLQ,
 * DLQ growth over an hour, consumer errors/throttles, p99 duration over 2 × baseline, and
 * scheduler delivery failures. Each alarm has the severity of its row in that table.
 *
 * Two profiles: `full` (every alarm, the dashboard) and `lean` (the alerting table's rows only,
 * no dashboard): CloudWatch bills $0.10 per alarm metric and $3 per dashboard each month, so the
 * lean profile drops what only repeats another alarm. Composite alarms are not used: at $0.50 a
 * month each they never cost less than the metric alarms they would combine (those still bill).
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { JOB_METRICS } from '../lambdas/shared/contract';
import type { IJobQueue, IMonitoredJobLane } from './interfaces';
import { checkInt, checkSeconds } from './private/validate';

export interface JobQueueAlarmOptions {
  /**
   * Create the alarms.
   *
   * @default true
   */
  readonly enabled?: boolean;

  /**
   * Messages added to a lane's DLQ within one hour above which the DLQ growth alarm fires.
   *
   * @default 50
   */
  readonly dlqGrowthPerHour?: number;

  /**
   * Consumer invocation errors in 5 minutes at or above which the errors alarm fires.
   * The consumer reports job failures as batch item failures, so an error here means the
   * consumer itself crashed or timed out.
   *
   * @default 1
   */
  readonly consumerErrors?: number;

  /**
   * Consumer throttles in 5 minutes at or above which the throttles alarm fires.
   *
   * @default 1
   */
  readonly consumerThrottles?: number;

  /**
   * Normal p99 consumer duration; the duration alarm fires when p99 exceeds twice this for 15 minutes.
   *
   * @default - a quarter of the consumer timeout
   */
  readonly durationP99Baseline?: Duration;
}

/** How much monitoring a JobQueue creates (`JobQueueProps.monitoringProfile`). */
export type MonitoringProfile = 'full' | 'lean';
export const MONITORING_PROFILES: readonly MonitoringProfile[] = ['full', 'lean'];

/**
 * An alarm's severity, from the design docs' alerting table: `critical` pages someone (jobs are
 * being lost or piling up in a DLQ, consumers cannot run), `warning` can wait for working hours.
 */
export type AlarmSeverity = 'warning' | 'critical';

export interface JobQueueMonitoringProps {
  /** The queue whose metrics (`metricQueueDepth` and siblings) the alarms and dashboard use. */
  readonly jobQueue: IJobQueue;
  /** The lanes with their resolved settings (alarm thresholds) and consumers. */
  readonly lanes: readonly IMonitoredJobLane[];
  readonly consumerTimeout: Duration;
  readonly alarms?: JobQueueAlarmOptions;
  readonly alarmTopic?: sns.ITopic;
  readonly dashboard: boolean;
  /**
   * `lean` keeps one alarm per row of the alerting table and per lane (depth, DLQ depth, DLQ
   * growth, consumer errors and throttles, p99 duration) plus the schedule DLQ and lost schedule
   * deliveries; `full` adds the oldest-message age per lane and every scheduler delivery metric.
   *
   * @default 'full'
   */
  readonly profile?: MonitoringProfile;
}

/** Job outcome metrics the runtime emits, in dashboard order. */
const JOB_OUTCOMES = [
  JOB_METRICS.names.succeeded,
  JOB_METRICS.names.failed,
  JOB_METRICS.names.retried,
  JOB_METRICS.names.deadLettered,
  JOB_METRICS.names.duplicateSkipped,
];

/**
 * Scheduler delivery metrics. `lean` keeps only lost invocations: a failed delivery is retried and
 * then dead-lettered, which the schedule DLQ alarm already catches.
 */
const SCHEDULER_ALARMS: { metric: string; what: string; severity: AlarmSeverity; lean: boolean }[] = [
  {
    metric: 'InvocationDroppedCount',
    what: 'dropped invocations (retries exhausted)',
    severity: 'critical',
    lean: false,
  },
  { metric: 'TargetErrorCount', what: 'failed deliveries to a lane', severity: 'warning', lean: false },
  {
    metric: 'InvocationsSentToDeadLetterCount',
    what: 'invocations dead-lettered',
    severity: 'warning',
    lean: false,
  },
  {
    metric: 'InvocationsFailedToBeSentToDeadLetterCount',
    what: 'invocations lost (DLQ send failed)',
    severity: 'critical',
    lean: true,
  },
];

/** Alarm thresholds with their defaults applied. */
interface Thresholds {
  readonly dlqGrowthPerHour: number;
  readonly consumerErrors: number;
  readonly consumerThrottles: number;
  readonly durationP99Baseline: Duration;
}

export class JobQueueMonitoring extends Construct {
  /** Receives every alarm's ALARM and OK notifications. */
  public readonly alarmTopic: sns.ITopic;
  /** Every alarm created, keyed by a stable name like `high/dlq-depth`. */
  public readonly alarms: ReadonlyMap<string, cloudwatch.Alarm>;
  /** The severity of each alarm in `alarms`, by the same key (route critical ones to a pager). */
  public readonly severities: ReadonlyMap<string, AlarmSeverity>;
  public readonly dashboard?: cloudwatch.Dashboard;
  /** The monitoring profile the alarms were chosen by. */
  public readonly profile: MonitoringProfile;

  private readonly alarmMap = new Map<string, cloudwatch.Alarm>();
  private readonly severityMap = new Map<string, AlarmSeverity>();
  private readonly action?: SnsAction;

  constructor(scope: Construct, id: string, props: JobQueueMonitoringProps) {
    super(scope, id);
    const thresholds = resolveThresholds(props);
    this.profile = props.profile ?? 'full';
    this.alarmTopic = props.alarmTopic ?? this.createAlarmTopic();
    this.alarms = this.alarmMap;
    this.severities = this.severityMap;
    if (props.alarms?.enabled ?? true) {
      this.action = new SnsAction(this.alarmTopic);
      for (const lane of props.lanes) this.addLaneAlarms(props.jobQueue, lane, thresholds);
      this.addSchedulerAlarms(props.jobQueue);
    }
    if (props.dashboard) {
      this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { widgets: dashboardRows(props) });
    }
  }

  private createAlarmTopic(): sns.Topic {
    const topic = new sns.Topic(this, 'AlarmTopic', { enforceSSL: true, displayName: 'Job queue alarms' });
    Validations.of(topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'Alarm notifications carry only alarm metadata, and CloudWatch cannot publish to a topic under the AWS-managed SNS key; pass alarmTopic with a customer-managed key to require one.',
    });
    return topic;
  }

  /** Depth, age, DLQ depth and growth, consumer errors, throttles and p99 duration. */
  private addLaneAlarms(jobQueue: IJobQueue, lane: IMonitoredJobLane, thresholds: Thresholds): void {
    const settings = lane;
    this.alarm(`${lane.name}/depth`, 'warning', {
      metric: jobQueue.metricQueueDepth(lane.name),
      threshold: settings.depthAlarmThreshold,
      evaluationPeriods: 5,
      alarmDescription: `More than ${settings.depthAlarmThreshold} jobs waiting in the ${lane.name} lane for 5 minutes`,
    });
    // Not a row of the alerting table: a lane past its age objective is usually deep too.
    if (this.profile === 'full') {
      this.alarm(`${lane.name}/age`, 'warning', {
        metric: jobQueue.metricAgeOfOldestJob(lane.name),
        threshold: settings.messageAgeObjective.toSeconds(),
        evaluationPeriods: 3,
        alarmDescription: `Oldest job in the ${lane.name} lane is older than its objective (${settings.messageAgeObjective.toHumanString()})`,
      });
    }
    // Visible count, not NumberOfMessagesSent: messages moved by redrive are never "sent".
    this.alarm(`${lane.name}/dlq-depth`, 'warning', {
      metric: jobQueue.metricDeadLetterQueueDepth(lane.name),
      threshold: 0,
      evaluationPeriods: 1,
      alarmDescription: `Jobs are waiting in the ${lane.name} dead-letter queue`,
    });
    // DIFF of hourly maxima: how many more jobs sit in the DLQ than an hour before.
    this.alarm(`${lane.name}/dlq-growth`, 'critical', {
      metric: new cloudwatch.MathExpression({
        expression: 'DIFF(dlq)',
        usingMetrics: { dlq: jobQueue.metricDeadLetterQueueDepth(lane.name, { period: Duration.hours(1) }) },
        period: Duration.hours(1),
        label: `${lane.name} DLQ growth per hour`,
      }),
      threshold: thresholds.dlqGrowthPerHour,
      evaluationPeriods: 1,
      alarmDescription: `The ${lane.name} dead-letter queue grew by more than ${thresholds.dlqGrowthPerHour} jobs in an hour`,
    });
    const fiveMinutes = Duration.minutes(5);
    // "Worker count dropped" in the alerting table: a consumer that crashes or is throttled runs nothing.
    this.alarm(`${lane.name}/consumer-errors`, 'critical', {
      metric: lane.consumer.metricErrors({ period: fiveMinutes, statistic: 'Sum' }),
      threshold: thresholds.consumerErrors - 1,
      evaluationPeriods: 1,
      alarmDescription: `The ${lane.name} consumer crashed or timed out`,
    });
    this.alarm(`${lane.name}/consumer-throttles`, 'critical', {
      metric: lane.consumer.metricThrottles({ period: fiveMinutes, statistic: 'Sum' }),
      threshold: thresholds.consumerThrottles - 1,
      evaluationPeriods: 1,
      alarmDescription: `The ${lane.name} consumer was throttled`,
    });
    const baseline = thresholds.durationP99Baseline;
    this.alarm(`${lane.name}/duration-p99`, 'warning', {
      metric: lane.consumer.metricDuration({ period: fiveMinutes, statistic: 'p99' }),
      threshold: 2 * baseline.toMilliseconds(),
      evaluationPeriods: 3,
      alarmDescription: `The ${lane.name} consumer's p99 duration is above twice its baseline (${baseline.toHumanString()})`,
    });
  }

  /** Scheduler delivery failures in the queue's group, and anything in the schedule DLQ. */
  private addSchedulerAlarms(jobQueue: IJobQueue): void {
    for (const { metric, what, severity, lean } of SCHEDULER_ALARMS) {
      if (this.profile === 'lean' && !lean) continue;
      this.alarm(`scheduler/${metric}`, severity, {
        metric: schedulerMetric(metric, jobQueue.scheduleGroup.scheduleGroupName),
        threshold: 0,
        evaluationPeriods: 1,
        alarmDescription: `EventBridge Scheduler: ${what} in this queue's schedule group`,
      });
    }
    this.alarm('scheduler/dlq-depth', 'warning', {
      metric: jobQueue.scheduleDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: 0,
      evaluationPeriods: 1,
      alarmDescription: 'Scheduled jobs could not be delivered and wait in the schedule dead-letter queue',
    });
  }

  private alarm(
    key: string,
    severity: AlarmSeverity,
    props: Omit<cloudwatch.AlarmProps, 'comparisonOperator' | 'treatMissingData' | 'alarmName'>,
  ): void {
    const alarm = new cloudwatch.Alarm(this, key.replace(/\//g, '-'), {
      ...props,
      alarmDescription: `[${severity}] ${props.alarmDescription ?? key}`,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (this.action) {
      alarm.addAlarmAction(this.action);
      alarm.addOkAction(this.action);
    }
    this.alarmMap.set(key, alarm);
    this.severityMap.set(key, severity);
  }
}

function resolveThresholds(props: JobQueueMonitoringProps): Thresholds {
  const options = props.alarms ?? {};
  const dlqGrowthPerHour = options.dlqGrowthPerHour ?? 50;
  checkInt('alarms.dlqGrowthPerHour', dlqGrowthPerHour, 1, 1_000_000);
  const consumerErrors = options.consumerErrors ?? 1;
  checkInt('alarms.consumerErrors', consumerErrors, 1, 1_000_000);
  const consumerThrottles = options.consumerThrottles ?? 1;
  checkInt('alarms.consumerThrottles', consumerThrottles, 1, 1_000_000);
  const durationP99Baseline =
    options.durationP99Baseline ?? Duration.millis(props.consumerTimeout.toMilliseconds() / 4);
  checkSeconds('alarms.durationP99Baseline', durationP99Baseline, 0.001, props.consumerTimeout.toSeconds());
  return { dlqGrowthPerHour, consumerErrors, consumerThrottles, durationP99Baseline };
}

function schedulerMetric(metricName: string, scheduleGroupName: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/Scheduler',
    metricName,
    dimensionsMap: { ScheduleGroup: scheduleGroupName },
    statistic: 'Sum',
    period: Duration.minutes(5),
  });
}

function dashboardRows(props: JobQueueMonitoringProps): cloudwatch.IWidget[][] {
  const minute = Duration.minutes(1);
  const rows: cloudwatch.IWidget[][] = [];
  const { jobQueue } = props;
  for (const lane of props.lanes) {
    const { queue, consumer } = lane;
    rows.push([new cloudwatch.TextWidget({ markdown: `### Lane \`${lane.name}\``, width: 24, height: 1 })]);
    rows.push([
      new cloudwatch.GraphWidget({
        title: `${lane.name}: depth and age`,
        left: [
          jobQueue.metricQueueDepth(lane.name, { label: 'visible' }),
          queue.metricApproximateNumberOfMessagesNotVisible({
            period: minute,
            statistic: 'Maximum',
            label: 'in flight',
          }),
          jobQueue.metricDeadLetterQueueDepth(lane.name, { label: 'DLQ' }),
        ],
        right: [jobQueue.metricAgeOfOldestJob(lane.name, { label: 'age (s)' })],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: `${lane.name}: sent and deleted`,
        left: [
          queue.metricNumberOfMessagesSent({ period: minute, statistic: 'Sum', label: 'sent' }),
          queue.metricNumberOfMessagesDeleted({ period: minute, statistic: 'Sum', label: 'deleted' }),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: `${lane.name}: consumer duration`,
        left: ['p50', 'p95', 'p99'].map((statistic) =>
          consumer.metricDuration({ period: minute, statistic, label: statistic }),
        ),
        width: 8,
      }),
    ]);
    rows.push([
      new cloudwatch.GraphWidget({
        title: `${lane.name}: errors, throttles, concurrency`,
        left: [
          consumer.metricErrors({ period: minute, statistic: 'Sum', label: 'errors' }),
          consumer.metricThrottles({ period: minute, statistic: 'Sum', label: 'throttles' }),
        ],
        right: [
          consumer.metric('ConcurrentExecutions', {
            period: minute,
            statistic: 'Maximum',
            label: 'concurrency',
          }),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: `${lane.name}: jobs by type`,
        left: JOB_OUTCOMES.map((metricName) => {
          const { jobType, lane: laneDim } = JOB_METRICS.dimensions;
          return new cloudwatch.MathExpression({
            // One line per job type; the runtime's dimensions are exactly {JobType, Lane}.
            expression: `SEARCH('{${jobQueue.metricsNamespace},${jobType},${laneDim}} MetricName="${metricName}" ${laneDim}="${lane.name}"', 'Sum', 60)`,
            label: metricName,
            period: minute,
          });
        }),
        width: 12,
      }),
    ]);
  }
  rows.push([
    new cloudwatch.GraphWidget({
      title: 'Scheduler deliveries',
      left: SCHEDULER_ALARMS.map(({ metric }) =>
        schedulerMetric(metric, jobQueue.scheduleGroup.scheduleGroupName),
      ),
      right: [
        jobQueue.scheduleDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: minute,
          statistic: 'Maximum',
          label: 'schedule DLQ',
        }),
      ],
      width: 24,
    }),
  ]);
  return rows;
}
