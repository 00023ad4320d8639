/**
 * What a producer, a schedule or an operator needs from a job queue, whether this stack owns it
 * (`JobQueue`) or it was imported from another stack or app (`JobQueue.fromJobQueueAttributes`).
 * Types only: the constructs implement them, and `JobSchedule` depends on nothing else.
 */
import type { Duration } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import type { JobRegistry } from '../lambdas/registry/types';
import type { JobQueueConfig } from '../lambdas/shared/contract';

/** A schedule that enqueues a job (`JobSchedule`). */
export interface IJobSchedule extends IConstruct {
  /** The EventBridge Scheduler schedule. */
  readonly schedule: scheduler.ISchedule;
  /** Stable name used in every firing's job id: `cron:<jobIdPrefix>:<scheduled time>`. */
  readonly jobIdPrefix: string;
}

export interface JobScheduleOptions {
  /** When to fire: `ScheduleExpression.cron(...)`, `.rate(...)`, `.at(...)` or `.expression(...)`, with a time zone. */
  readonly schedule: scheduler.ScheduleExpression;

  /** Job type to enqueue: a key of the job registry (checked at synth time when the JobQueue has its `registry`). */
  readonly jobType: string;

  /**
   * Job payload, validated by the job's schema when it runs, and at synth time when the JobQueue
   * was given its `registry`.
   *
   * @default {}
   */
  readonly payload?: Record<string, unknown>;

  /**
   * Lane to enqueue into.
   *
   * @default - the JobQueue's default lane
   */
  readonly lane?: string;

  /**
   * Let Scheduler fire up to this long after the scheduled time, to spread load.
   *
   * @default - off: fire at the scheduled time
   */
  readonly flexibleWindow?: Duration;

  /**
   * Delivery retries when sending to the lane fails (0–185).
   *
   * @default 10
   */
  readonly retryAttempts?: number;

  /**
   * How long Scheduler keeps retrying a firing (60 s – 24 h).
   *
   * @default Duration.hours(1)
   */
  readonly maxEventAge?: Duration;

  /**
   * Message group of the jobs when the lane is FIFO.
   *
   * @default - the schedule's name
   */
  readonly messageGroupId?: string;

  /**
   * Whether the schedule is enabled.
   *
   * @default true
   */
  readonly enabled?: boolean;

  /**
   * Description shown in the Scheduler console.
   *
   * @default - names the job type and lane
   */
  readonly description?: string;
}

/** One priority lane: its queue, its dead-letter queue and, when this stack owns it, its consumer. */
export interface IJobLane {
  /** The lane's name, e.g. `high`. */
  readonly name: string;
  /** The lane queue producers and schedules send to. */
  readonly queue: sqs.IQueue;
  /** Where the lane's jobs go when they die (permanent error, attempts used up, poison message). */
  readonly deadLetterQueue: sqs.IQueue;
  /** Whether the lane is a FIFO queue (jobs need a message group). */
  readonly fifo: boolean;
  /** Attempts (handler runs) a job of this lane gets before it is dead-lettered. */
  readonly maxAttempts: number;
  /**
   * The lane queue's redrive maxReceiveCount, a backstop above `maxAttempts`.
   *
   * @default - undefined for an imported lane whose attributes do not give it
   */
  readonly maxReceiveCount?: number;
  /**
   * The consumer that drains the lane.
   *
   * @default - undefined for an imported queue
   */
  readonly consumer?: lambda.IFunction;
}

/** A lane of a queue this stack owns (`JobQueue.lanes`): its consumer is always there. */
export interface IOwnedJobLane extends IJobLane {
  /** The consumer that drains the lane. */
  readonly consumer: lambda.IFunction;
  /** The lane queue's visibility timeout, derived from the consumer timeout (6 × timeout + batching window). */
  readonly visibilityTimeout: Duration;
}

/** A lane as the monitoring sees it: its consumer and its alarm thresholds. */
export interface IMonitoredJobLane extends IOwnedJobLane {
  /** The depth alarm fires above this many visible jobs for 5 minutes. */
  readonly depthAlarmThreshold: number;
  /** The age alarm fires when the oldest job is older than this. */
  readonly messageAgeObjective: Duration;
}

/** Options of the job metrics (`metricJobsSucceeded` and its siblings). */
export interface JobMetricOptions extends cloudwatch.MetricOptions {
  /**
   * The lane the jobs ran in: job metrics carry both the job type and the lane as dimensions.
   *
   * @default - the job's lane from the queue's `registry` when it has one, else the default lane
   */
  readonly lane?: string;

  /**
   * Only this tenant's jobs: adds the dimension `Tenant`. Only for job types defined with
   * `tenantMetrics: true`, whose consumer then also emits every job metric with the dimensions
   * {JobType, Lane, Tenant} (other job types have no per-tenant metrics, so the metric stays
   * empty). Each tenant is a separate set of custom metrics, billed as such. 1-128 letters,
   * digits and ASCII punctuation (the SQS MessageGroupId rule, like the tenant itself).
   *
   * @default - every tenant: the metric with the dimensions {JobType, Lane}
   */
  readonly tenant?: string;
}

/** A job queue as producers, schedules and operators see it. */
export interface IJobQueue extends IConstruct {
  /** The job ledger table. */
  readonly ledgerTable: dynamodb.ITable;
  /** Lane names, in the order they were defined. */
  readonly laneNames: readonly string[];
  /** Lane for jobs whose definition names none. */
  readonly defaultLane: string;
  /** Group holding the queue's schedules (cron and one-time delays). */
  readonly scheduleGroup: scheduler.IScheduleGroup;
  /** Role EventBridge Scheduler assumes to send jobs to the lanes. */
  readonly schedulerRole: iam.IRole;
  /** Where scheduler deliveries that failed after their retries end up. */
  readonly scheduleDeadLetterQueue: sqs.IQueue;
  /**
   * Customer-managed key of the queues and the ledger.
   *
   * @default - undefined: SQS-managed and AWS-managed encryption
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Bucket of the results over the ledger's inline limit (`results/<jobId>/…`), if the queue has one.
   *
   * @default - undefined: such results are replaced by a note in the ledger
   */
  readonly resultsBucket?: s3.IBucket;
  /** CloudWatch namespace of the job metrics. */
  readonly metricsNamespace: string;
  /**
   * The job registry, for synth-time checks of schedules and the default lane of job metrics.
   *
   * @default - undefined: no synth-time checks
   */
  readonly registry?: JobRegistry;
  /** What clients need to reach this queue: the JSON `JobClient.fromConfig` takes. */
  readonly config: JobQueueConfig;

  /** Returns the lane, or throws naming the lanes that exist. */
  lane(name: string): IJobLane;
  /** Adds a cron, rate or one-time schedule that enqueues a job into one of the lanes. */
  addSchedule(id: string, options: JobScheduleOptions): IJobSchedule;

  /** Grants what a producer's `JobClient` needs to enqueue (see the README's Grants section). */
  grantEnqueue(grantee: iam.IGrantable): iam.Grant;
  /** Grants what `JobClient.getJob` needs. */
  grantStatusRead(grantee: iam.IGrantable): iam.Grant;
  /** Grants what `JobClient.cancel` and `sqs-jobs cancel` need (see the README's Grants section). */
  grantCancel(grantee: iam.IGrantable): iam.Grant;
  /** Grants what the `sqs-jobs` operator CLI needs, `grantCancel` included. */
  grantOperate(grantee: iam.IGrantable): iam.Grant;
  /** Sets the queue's config in `fn`'s environment and grants what enqueueing and `getJob` need. */
  configureProducer(fn: lambda.Function): iam.Grant;

  /** Jobs waiting in a lane (SQS ApproximateNumberOfMessagesVisible, Maximum over 1 minute). */
  metricQueueDepth(lane: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Age of a lane's oldest job in seconds (SQS ApproximateAgeOfOldestMessage, Maximum over 1 minute). */
  metricAgeOfOldestJob(lane: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Jobs in a lane's dead-letter queue (ApproximateNumberOfMessagesVisible, Maximum over 1 minute). */
  metricDeadLetterQueueDepth(lane: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Jobs of a type that succeeded (Sum over 5 minutes). */
  metricJobsSucceeded(jobType: string, props?: JobMetricOptions): cloudwatch.Metric;
  /** Attempts of a job type that failed, retryable or not (Sum over 5 minutes). */
  metricJobsFailed(jobType: string, props?: JobMetricOptions): cloudwatch.Metric;
  /** Failed attempts of a job type that will be retried after a backoff (Sum over 5 minutes). */
  metricJobsRetried(jobType: string, props?: JobMetricOptions): cloudwatch.Metric;
  /** Jobs of a type that went DEAD (Sum over 5 minutes). */
  metricJobsDeadLettered(jobType: string, props?: JobMetricOptions): cloudwatch.Metric;
  /** Handler duration of a job type in milliseconds (p99 over 5 minutes). */
  metricJobDuration(jobType: string, props?: JobMetricOptions): cloudwatch.Metric;
  /** Jobs of a type that ended CANCELLED, queued or stopped while running (Sum over 5 minutes). */
  metricJobsCancelled(jobType: string, props?: JobMetricOptions): cloudwatch.Metric;
  /**
   * Deliveries of a job type deferred by its rate limit or concurrency limit, which use no
   * attempt (Sum over 5 minutes).
   */
  metricJobsLimited(jobType: string, props?: JobMetricOptions): cloudwatch.Metric;
}

/** A lane of an imported job queue, as `JobQueue.fromJobQueueAttributes` takes it. */
export interface JobLaneAttributes {
  /** ARN of the lane queue. */
  readonly queueArn: string;
  /**
   * URL of the lane queue.
   *
   * @default - built from the ARN
   */
  readonly queueUrl?: string;
  /** ARN of the lane's dead-letter queue. */
  readonly deadLetterQueueArn: string;
  /**
   * URL of the lane's dead-letter queue.
   *
   * @default - built from the ARN
   */
  readonly deadLetterQueueUrl?: string;
  /**
   * Whether the lane is FIFO.
   *
   * @default - true when the queue ARN (a literal) ends in `.fifo`, else false
   */
  readonly fifo?: boolean;
  /**
   * Attempts a job of this lane gets.
   *
   * @default 5
   */
  readonly maxAttempts?: number;
  /**
   * The lane queue's redrive maxReceiveCount.
   *
   * @default - unknown (not published in the config)
   */
  readonly maxReceiveCount?: number;
  /**
   * Name of the lane's consumer function, published in the config for the CLI.
   *
   * @default - unknown
   */
  readonly consumerFunctionName?: string;
}

/** A job queue defined elsewhere (another stack or another app), for `JobQueue.fromJobQueueAttributes`. */
export interface JobQueueAttributes {
  /** ARN of the ledger table. */
  readonly ledgerTableArn: string;
  /** The lanes, by name. */
  readonly lanes: Record<string, JobLaneAttributes>;
  /**
   * Lane for jobs whose definition names none.
   *
   * @default - `default` if such a lane exists, else the first lane
   */
  readonly defaultLane?: string;
  /** Name of the queue's schedule group. */
  readonly scheduleGroupName: string;
  /** ARN of the role EventBridge Scheduler assumes to send to the lanes. */
  readonly schedulerRoleArn: string;
  /** ARN of the queue that receives failed scheduler deliveries. */
  readonly scheduleDeadLetterQueueArn: string;
  /**
   * ARN of the alarm topic, published in the config for the CLI.
   *
   * @default - unknown
   */
  readonly alarmTopicArn?: string;
  /**
   * The queue's ledger TTL, the default retention of idempotency keys.
   *
   * @default Duration.days(30)
   */
  readonly ledgerTtl?: Duration;
  /**
   * Name of the ledger's search index, when the queue has one (`jobSearch: true`; the config's
   * `searchIndex`). `grantStatusRead`, `grantOperate` and `configureProducer` then allow
   * `dynamodb:Query` on it, for `JobClient.listJobs`.
   *
   * @default - no search index
   */
  readonly searchIndex?: string;
  /**
   * The customer-managed key of the queues and the ledger, if the queue was created with one.
   * Grants then include the key actions SQS and DynamoDB need.
   *
   * @default - none
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Name of the queue's results bucket (`resultsBucket` in its config output), if it has one:
   * `grantStatusRead`, `configureProducer` and `grantOperate` then include reading its results.
   *
   * @default - no results bucket
   */
  readonly resultsBucketName?: string;
  /**
   * CloudWatch namespace of the job metrics.
   *
   * @default 'SqsJobs'
   */
  readonly metricsNamespace?: string;
  /**
   * The job registry, for synth-time checks of this app's schedules.
   *
   * @default - none
   */
  readonly registry?: JobRegistry;
  /**
   * Name of the stack that owns the queue. Only needed by `grantEnqueue`, `grantStatusRead` and
   * `grantOperate` for principals that find the queue with `JobClient.fromStack` or the CLI
   * (`cloudformation:DescribeStacks` on that stack); `configureProducer` does not need it.
   *
   * @default - no `cloudformation:DescribeStacks` grant
   */
  readonly stackName?: string;
}
