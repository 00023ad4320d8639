/**
 * JobQueue: priority lanes with DLQs and consumers, the DynamoDB job ledger, the schedule group
 * and scheduler role, alarms and a dashboard, checked for cross-resource invariants at synth time.
 */
import {
  Annotations,
  ArnFormat,
  CfnOutput,
  Duration,
  Names,
  RemovalPolicy,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { JobRegistry } from '../lambdas/registry/types';
// The backoff module is pure (no SDK), like the contract: the construct checks the TTL with the
// very function the consumer schedules retries with.
import { MAX_BACKOFF_SECONDS, retryHorizonSeconds } from '../lambdas/shared/backoff';
import {
  CONFIG_OUTPUT_DESCRIPTION,
  type JobQueueConfig,
  type LaneConfig,
  LEDGER_ATTR,
  PRODUCER_ENV,
} from '../lambdas/shared/contract';
import { DEFAULTS } from '../lambdas/shared/defaults';
import { JobQueueConfigError } from './errors';
import { type IJobLane, JobLane } from './job-lane';
import { type JobQueueAlarmOptions, JobQueueMonitoring } from './job-queue-monitoring';
import { JobSchedule, type JobScheduleOptions } from './job-schedule';
import { DEFAULT_LANES, DLQ_RETENTION, type LaneOptions, resolveLanes } from './lanes';
import { consumerEntry } from './private/consumer-entry';
import { checkInt, checkSeconds } from './private/validate';

/** Exponential backoff with full jitter between retries of a failed job. */
export interface BackoffOptions {
  /**
   * Upper bound of the first retry's delay; it doubles with each attempt.
   *
   * @default Duration.seconds(5)
   */
  readonly base?: Duration;
  /**
   * Largest delay between two attempts; at most 12 hours (the SQS visibility limit).
   *
   * @default Duration.minutes(15)
   */
  readonly cap?: Duration;
}

export interface JobQueueProps {
  /**
   * Path of the module that exports your job registry (see `defineRegistry` in the runtime).
   * It is bundled with the consumer runtime into each lane's Lambda.
   */
  readonly registryEntry: string;

  /**
   * Name of the registry export in `registryEntry`.
   *
   * @default 'registry'
   */
  readonly registryExport?: string;

  /**
   * The job registry object itself (the one `registryEntry` exports), for checks at synth time:
   * every schedule's job type must be in it and its payload must pass the job's schema, and every
   * job's `lane` must be a lane of this queue. The consumers still load the registry from
   * `registryEntry`.
   *
   * @default - no synth-time checks of job types and payloads (the consumer rejects them at run time)
   */
  readonly registry?: JobRegistry;

  /**
   * Priority lanes, each an SQS queue with its own DLQ and consumer.
   *
   * @default - `high` (weight 6), `default` (weight 3), `low` (weight 1)
   */
  readonly lanes?: LaneOptions[];

  /**
   * Lane for jobs whose definition names none.
   *
   * @default - `default` if such a lane exists, else the first lane
   */
  readonly defaultLane?: string;

  /**
   * Concurrency budget shared by all lanes by weight; each lane gets at least 2.
   *
   * @default 20
   */
  readonly totalConcurrency?: number;

  /**
   * Consumer Lambda timeout. Each lane's visibility timeout is derived from it
   * (6 × timeout + batching window).
   *
   * @default Duration.seconds(60)
   */
  readonly consumerTimeout?: Duration;

  /**
   * Consumer Lambda memory in MB.
   *
   * @default 256
   */
  readonly consumerMemorySize?: number;

  /**
   * Consumer runtime.
   *
   * @default lambda.Runtime.NODEJS_22_X
   */
  readonly consumerRuntime?: lambda.Runtime;

  /**
   * Messages per consumer invocation (standard lanes; FIFO lanes take at most 10).
   *
   * @default 10
   */
  readonly batchSize?: number;

  /**
   * How long each standard lane's event source gathers messages before invoking.
   *
   * @default Duration.seconds(0)
   */
  readonly maxBatchingWindow?: Duration;

  /**
   * Jobs of one batch run at once inside a consumer.
   *
   * @default 10
   */
  readonly batchParallelism?: number;

  /**
   * Default retry backoff; job definitions may override it.
   *
   * @default - base 5 seconds, cap 15 minutes
   */
  readonly backoff?: BackoffOptions;

  /**
   * An existing ledger table (partition key `jobId` of type string, TTL attribute `expiresAt`).
   *
   * @default - a new on-demand table with point-in-time recovery
   */
  readonly ledgerTable?: dynamodb.ITable;

  /**
   * How long ledger items live after their last write. Must cover the longest retry horizon.
   *
   * @default Duration.days(30)
   */
  readonly ledgerTtl?: Duration;

  /**
   * What happens to the queues that hold jobs (every lane queue, every lane DLQ and the schedule
   * DLQ) when they leave the stack or are replaced, and to the ledger unless
   * `ledgerRemovalPolicy` is given. Renaming a lane or switching it to FIFO creates a new queue:
   * under RETAIN the old queue and its messages stay in the account (orphaned), so drain it first.
   * A retained lane queue keeps its generated name, so before deploying the same stack again after
   * `cdk destroy`, delete the retained queues (their names are taken).
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * What happens to the ledger table when it leaves the stack. Only applies to a table this
   * construct creates.
   *
   * @default - `removalPolicy`, else RemovalPolicy.RETAIN
   */
  readonly ledgerRemovalPolicy?: RemovalPolicy;

  /**
   * Alarm settings.
   *
   * @default - every alarm on, thresholds from the alerting table in the docs
   */
  readonly alarms?: JobQueueAlarmOptions;

  /**
   * Topic that receives alarm notifications.
   *
   * @default - a new TLS-only topic
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * Create the CloudWatch dashboard.
   *
   * @default true
   */
  readonly dashboard?: boolean;

  /**
   * CloudWatch namespace of the job metrics the consumers emit.
   *
   * @default 'SqsJobs'
   */
  readonly metricsNamespace?: string;

  /**
   * Bundle the AWS SDK into the consumer instead of using the copy the Lambda runtime provides.
   *
   * @default false
   */
  readonly bundleAwsSdk?: boolean;

  /**
   * Consumer log retention.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Extra environment variables for every consumer (e.g. configuration your handlers read).
   *
   * @default - none
   */
  readonly consumerEnvironment?: Record<string, string>;
}

/** Lanes whose config JSON still fits Lambda's 4 KB environment with room for other variables. */
const MAX_LANES_IN_PRODUCER_ENV = 5;

/** Lambda's own limits for a function timeout. */
const MAX_CONSUMER_TIMEOUT_SECONDS = 900;

export class JobQueue extends Construct {
  /** The job ledger: idempotency and status record in one item per job. */
  public readonly table: dynamodb.ITable;
  /** Lanes by name, in the order they were defined. */
  public readonly lanes: ReadonlyMap<string, IJobLane>;
  /** Lane for jobs that name none. */
  public readonly defaultLane: string;
  /** Group holding this queue's schedules (cron and one-time delays). */
  public readonly scheduleGroup: scheduler.IScheduleGroup;
  /** Role EventBridge Scheduler assumes to send jobs to the lanes. */
  public readonly schedulerRole: iam.IRole;
  /** Where scheduler deliveries that failed after their retries end up. */
  public readonly scheduleDeadLetterQueue: sqs.IQueue;
  /** Alarms and dashboard. */
  public readonly monitoring: JobQueueMonitoring;
  /** What clients need to reach this queue, as published in the stack output. */
  public readonly config: JobQueueConfig;
  /** The registry given in the props, if any: schedules are checked against it at synth time. */
  public readonly registry?: JobRegistry;

  constructor(scope: Construct, id: string, props: JobQueueProps) {
    super(scope, id);

    const consumerTimeout = props.consumerTimeout ?? Duration.seconds(DEFAULTS.consumerTimeoutSeconds);
    checkSeconds('consumerTimeout', consumerTimeout, 1, MAX_CONSUMER_TIMEOUT_SECONDS);
    const memorySize = props.consumerMemorySize ?? DEFAULTS.consumerMemoryMb;
    checkInt('consumerMemorySize', memorySize, 128, 10_240);
    const batchParallelism = props.batchParallelism ?? DEFAULTS.batchParallelism;
    checkInt('batchParallelism', batchParallelism, 1, 100);
    const backoffBase = props.backoff?.base ?? Duration.seconds(DEFAULTS.backoffBaseSeconds);
    const backoffCap = props.backoff?.cap ?? Duration.seconds(DEFAULTS.backoffCapSeconds);
    checkSeconds('backoff.base', backoffBase, 1, MAX_BACKOFF_SECONDS);
    checkSeconds('backoff.cap', backoffCap, backoffBase.toSeconds(), MAX_BACKOFF_SECONDS);
    const maxBatchingWindow = props.maxBatchingWindow ?? Duration.seconds(0);
    const ledgerTtl = props.ledgerTtl ?? Duration.seconds(DEFAULTS.ledgerTtlSeconds);

    const lanes = resolveLanes(props.lanes ?? DEFAULT_LANES, {
      batchSize: props.batchSize ?? DEFAULTS.batchSize,
      maxBatchingWindow,
      totalConcurrency: props.totalConcurrency ?? DEFAULTS.totalConcurrency,
    });
    const laneNames = lanes.map((lane) => lane.name);
    this.defaultLane = props.defaultLane ?? (laneNames.includes('default') ? 'default' : laneNames[0]);
    if (!laneNames.includes(this.defaultLane)) {
      throw new JobQueueConfigError('defaultLane', `one of ${laneNames.join(', ')}`, this.defaultLane);
    }

    // A ledger item must outlive every retry of its job, or a late retry would run a finished job again.
    // The runtime's own backoff decides the delays: a lane of N attempts waits after the first N - 1.
    const backoff = { baseSeconds: backoffBase.toSeconds(), capSeconds: backoffCap.toSeconds() };
    const horizon = Math.max(...lanes.map((lane) => retryHorizonSeconds(lane.maxAttempts - 1, backoff)));
    checkSeconds('ledgerTtl', ledgerTtl, Math.max(horizon, 3600), 365 * 24 * 3600);

    this.registry = props.registry;
    if (this.registry) checkJobLanes(this.registry, laneNames);

    const entry = consumerEntry(props.registryEntry, props.registryExport ?? 'registry');

    // Queues and the ledger hold work and history: kept unless the user opts out.
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.table =
      props.ledgerTable ??
      this.createLedger(props.ledgerRemovalPolicy ?? props.removalPolicy ?? RemovalPolicy.RETAIN);

    const serviceName = Names.uniqueResourceName(this, { maxLength: 64 });
    const metricsNamespace = props.metricsNamespace ?? DEFAULTS.metricsNamespace;
    const laneMap = new Map<string, JobLane>();
    for (const lane of lanes) {
      const jobLane = new JobLane(this, `Lane-${lane.name}`, {
        lane,
        entry,
        consumerTimeout,
        memorySize,
        batchParallelism,
        backoffBase,
        backoffCap,
        ledgerTtl,
        ledgerTableName: this.table.tableName,
        serviceName,
        metricsNamespace,
        bundleAwsSdk: props.bundleAwsSdk ?? false,
        logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
        runtime: props.consumerRuntime ?? lambda.Runtime.NODEJS_22_X,
        environment: props.consumerEnvironment ?? {},
        removalPolicy,
      });
      // Every consumer write is a conditional UpdateItem (claim, complete, fail, progress, lease,
      // outcome); optimistic mode reads first. test/unit/lib/grants.test.ts proves the set.
      this.table.grant(jobLane.consumer, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
      laneMap.set(lane.name, jobLane);
      Validations.of(jobLane).acknowledge(
        {
          id: 'AwsSolutions-L1',
          reason: 'Consumers target Node.js 22 on purpose; set consumerRuntime to move to a newer runtime.',
        },
        {
          id: 'Serverless-LambdaLatestVersion',
          reason: 'Consumers target Node.js 22 on purpose; set consumerRuntime to move to a newer runtime.',
        },
        {
          id: 'Serverless-SQSRedrivePolicy',
          reason: 'The lane DLQ is the end of the line: jobs leave it only by an operator redrive.',
        },
        {
          id: 'Serverless-LambdaDLQ',
          reason:
            'SQS-triggered: failed messages go to the lane DLQ through its redrive policy, not a Lambda DLQ.',
        },
        {
          id: 'Serverless-LambdaAsyncFailureDestination',
          reason: 'Never invoked asynchronously; failures are handled by the lane queue and its DLQ.',
        },
        {
          id: 'Serverless-LambdaTracing',
          reason: 'Per-job structured logs and metrics cover tracing needs; X-Ray would add cost per job.',
        },
        {
          id: 'Serverless-LambdaEventSourceMappingDestination',
          reason:
            'SQS event sources dead-letter through the queue redrive policy (ESM destinations do not apply).',
        },
      );
    }
    this.lanes = laneMap;

    this.scheduleDeadLetterQueue = new sqs.Queue(this, 'ScheduleDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: DLQ_RETENTION,
      removalPolicy,
    });
    Validations.of(this.scheduleDeadLetterQueue).acknowledge(
      {
        id: 'AwsSolutions-SQS3',
        reason: 'This queue is itself the dead-letter queue of the EventBridge Scheduler targets.',
      },
      {
        id: 'Serverless-SQSRedrivePolicy',
        reason: 'This queue is itself the dead-letter queue of the EventBridge Scheduler targets.',
      },
    );
    this.scheduleGroup = new scheduler.ScheduleGroup(this, 'Schedules');
    const schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'Lets EventBridge Scheduler deliver cron and delayed jobs to the lanes',
    });
    // Scheduler only sends (to the target, and failed deliveries to its DLQ): no attributes, no URL.
    for (const jobLane of laneMap.values()) jobLane.queue.grant(schedulerRole, 'sqs:SendMessage');
    this.scheduleDeadLetterQueue.grant(schedulerRole, 'sqs:SendMessage');
    this.schedulerRole = schedulerRole;

    this.monitoring = new JobQueueMonitoring(this, 'Monitoring', {
      lanes: [...laneMap.values()],
      scheduleGroupName: this.scheduleGroup.scheduleGroupName,
      scheduleDeadLetterQueue: this.scheduleDeadLetterQueue,
      consumerTimeout,
      alarms: props.alarms,
      alarmTopic: props.alarmTopic,
      dashboard: props.dashboard ?? true,
      metricsNamespace,
    });

    this.config = {
      version: 1,
      tableName: this.table.tableName,
      defaultLane: this.defaultLane,
      lanes: Object.fromEntries(
        [...laneMap.values()].map((lane): [string, LaneConfig] => [
          lane.name,
          {
            queueUrl: lane.queue.queueUrl,
            queueArn: lane.queue.queueArn,
            dlqUrl: lane.deadLetterQueue.queueUrl,
            dlqArn: lane.deadLetterQueue.queueArn,
            fifo: lane.settings.fifo,
            maxAttempts: lane.settings.maxAttempts,
            maxReceiveCount: lane.settings.maxReceiveCount,
            functionName: lane.consumer.functionName,
          },
        ]),
      ),
      scheduleGroup: this.scheduleGroup.scheduleGroupName,
      schedulerRoleArn: schedulerRole.roleArn,
      scheduleDlqArn: this.scheduleDeadLetterQueue.queueArn,
      alarmTopicArn: this.monitoring.alarmTopic.topicArn,
      ledgerTtlSeconds: ledgerTtl.toSeconds(),
    };
    new CfnOutput(this, 'Config', {
      description: CONFIG_OUTPUT_DESCRIPTION,
      value: Stack.of(this).toJsonString(this.config),
    });
  }

  /** Returns the lane, or throws naming the lanes that exist. */
  public lane(name: string): IJobLane {
    const lane = this.lanes.get(name);
    if (!lane) throw new JobQueueConfigError('lane', `one of ${[...this.lanes.keys()].join(', ')}`, name);
    return lane;
  }

  /** Adds a cron, rate or one-time schedule that enqueues a job into one of the lanes. */
  public addSchedule(id: string, options: JobScheduleOptions): JobSchedule {
    return new JobSchedule(this, id, { ...options, jobQueue: this });
  }

  /**
   * Grants what a producer's `JobClient` needs to enqueue, found with `JobClient.fromStack`:
   *
   * - `sqs:SendMessage` on every lane (SendMessage, SendMessageBatch) and `sqs:GetQueueAttributes`
   *   (the lane depth that `backlogLimits` checks);
   * - `dynamodb:PutItem` and `dynamodb:DeleteItem` on the ledger: a keyed job's ENQUEUED item, and
   *   its removal when the send failed, so a retry with the same key is not swallowed;
   * - `scheduler:CreateSchedule` in this queue's schedule group and `iam:PassRole` on the
   *   scheduler role, only towards `scheduler.amazonaws.com` (delays over 15 minutes, FIFO delays);
   * - `cloudformation:DescribeStacks` on this stack only (`JobClient.fromStack` reads the config
   *   output). Kept because producers outside Lambda (containers, scripts, CI) find the queue that
   *   way; a Lambda producer should use `configureProducer` instead, which grants the rest without it.
   *
   * Add `grantStatusRead` for `getJob`. test/unit/lib/grants.test.ts checks every call the client
   * makes against these grants with an IAM policy simulator, and that nothing else is granted.
   */
  public grantEnqueue(grantee: iam.IGrantable): iam.Grant {
    return this.grantSend(grantee).combine(this.grantConfigRead(grantee));
  }

  /**
   * Grants what `JobClient.getJob` needs (`dynamodb:GetItem` on the ledger), and
   * `cloudformation:DescribeStacks` on this stack for `JobClient.fromStack`.
   */
  public grantStatusRead(grantee: iam.IGrantable): iam.Grant {
    return this.table.grant(grantee, 'dynamodb:GetItem').combine(this.grantConfigRead(grantee));
  }

  /**
   * Makes `fn` a producer without a CloudFormation call: sets the `SQS_JOBS_CONFIG` environment
   * variable (PRODUCER_ENV.config) to this queue's config JSON, for `JobClient.fromEnvironment()`,
   * and grants what enqueueing and `getJob` need (as `grantEnqueue` + `grantStatusRead`, without
   * `cloudformation:DescribeStacks`). Lambda environment variables share a 4 KB limit; the config
   * takes about 600 bytes per lane plus 550, so about five lanes fit (synth warns above that; a
   * producer of a larger queue uses `grantEnqueue` and `JobClient.fromStack`).
   */
  public configureProducer(fn: lambda.Function): iam.Grant {
    if (this.lanes.size > MAX_LANES_IN_PRODUCER_ENV) {
      Annotations.of(fn).addWarningV2(
        'sqs-jobs:producer-config-size',
        `${PRODUCER_ENV.config} holds the config of ${this.lanes.size} lanes (about ${550 + 600 * this.lanes.size} bytes): Lambda rejects environments over 4 KB. If the deploy fails, use grantEnqueue and JobClient.fromStack instead.`,
      );
    }
    fn.addEnvironment(PRODUCER_ENV.config, Stack.of(this).toJsonString(this.config));
    return this.grantSend(fn).combine(this.table.grant(fn, 'dynamodb:GetItem'));
  }

  /**
   * Grants what the `sqs-jobs` operator CLI needs for `status`, `stats`, `top`, `schedules` and
   * every `dlq` command (list, retry, delete, redrive, purge):
   *
   * - `cloudformation:DescribeStacks` on this stack (the CLI finds the config output);
   * - on each lane DLQ: receive, change visibility (hand a peeked message back), delete, read
   *   attributes, purge, and start / list message move tasks (a redrive also needs receive, delete
   *   and attributes on its source);
   * - on each lane queue: `sqs:SendMessage` (retry, and a redrive's destination) and
   *   `sqs:GetQueueAttributes` (depths);
   * - `dynamodb:GetItem` on the ledger (the CLI writes no ledger items: the consumer's claim
   *   accepts DEAD jobs, so a retried or redriven job needs no reset);
   * - `scheduler:GetSchedule` in this queue's schedule group and `scheduler:ListSchedules`, which
   *   IAM only grants on `*`;
   * - `cloudwatch:GetMetricData` (no resource-level permissions, so `*`) and
   *   `cloudwatch:DescribeAlarms` on this account and region's alarms (the CLI lists the alarms
   *   that notify this queue's topic).
   *
   * `sqs-jobs enqueue` is a producer call: add `grantEnqueue`. test/unit/lib/grants.test.ts runs
   * every operator command against these grants with an IAM policy simulator.
   */
  public grantOperate(grantee: iam.IGrantable): iam.Grant {
    const stack = Stack.of(this);
    const dlqs = [...this.lanes.values()].map((lane) => lane.deadLetterQueue);
    const queues = [...this.lanes.values()].map((lane) => lane.queue);
    const grants = [
      this.grantConfigRead(grantee),
      iam.Grant.addToPrincipal({
        grantee,
        actions: [
          'sqs:ReceiveMessage',
          'sqs:ChangeMessageVisibility',
          'sqs:DeleteMessage',
          'sqs:GetQueueAttributes',
          'sqs:PurgeQueue',
          'sqs:StartMessageMoveTask',
          'sqs:ListMessageMoveTasks',
        ],
        resourceArns: dlqs.map((dlq) => dlq.queueArn),
      }),
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes'],
        resourceArns: queues.map((queue) => queue.queueArn),
      }),
      this.table.grant(grantee, 'dynamodb:GetItem'),
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['scheduler:GetSchedule'],
        resourceArns: [this.scheduleArns()],
      }),
      // Neither action has resource-level permissions: IAM grants them on '*' or not at all.
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['scheduler:ListSchedules', 'cloudwatch:GetMetricData'],
        resourceArns: ['*'],
      }),
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['cloudwatch:DescribeAlarms'],
        resourceArns: [
          stack.formatArn({
            service: 'cloudwatch',
            resource: 'alarm',
            resourceName: '*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    ];
    return grants.reduce((all, grant) => all.combine(grant));
  }

  /** `cloudformation:DescribeStacks` on this stack only: what `JobClient.fromStack` and the CLI call. */
  private grantConfigRead(grantee: iam.IGrantable): iam.Grant {
    const stack = Stack.of(this);
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['cloudformation:DescribeStacks'],
      resourceArns: [
        stack.formatArn({
          service: 'cloudformation',
          resource: 'stack',
          resourceName: `${stack.stackName}/*`,
        }),
      ],
    });
  }

  /** Sending to the lanes, the keyed ledger writes and one-time schedules: every enqueue path. */
  private grantSend(grantee: iam.IGrantable): iam.Grant {
    const grants = [...this.lanes.values()].map((lane) =>
      lane.queue.grant(grantee, 'sqs:SendMessage', 'sqs:GetQueueAttributes'),
    );
    grants.push(this.table.grant(grantee, 'dynamodb:PutItem', 'dynamodb:DeleteItem'));
    grants.push(
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['scheduler:CreateSchedule'],
        resourceArns: [this.scheduleArns()],
      }),
    );
    // The role may only be handed to EventBridge Scheduler, not to any service that accepts roles.
    grants.push(
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['iam:PassRole'],
        resourceArns: [this.schedulerRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      }),
    );
    return grants.reduce((all, grant) => all.combine(grant));
  }

  /** Every schedule in this queue's group. */
  private scheduleArns(): string {
    return Stack.of(this).formatArn({
      service: 'scheduler',
      resource: 'schedule',
      resourceName: `${this.scheduleGroup.scheduleGroupName}/*`,
    });
  }

  private createLedger(removalPolicy: RemovalPolicy): dynamodb.ITable {
    return new dynamodb.Table(this, 'Ledger', {
      partitionKey: { name: LEDGER_ATTR.jobId, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: LEDGER_ATTR.expiresAt,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy,
    });
  }
}

/** A job whose definition names a lane this queue does not have would fail every enqueue. */
function checkJobLanes(registry: JobRegistry, laneNames: readonly string[]): void {
  for (const type of registry.types) {
    const lane = registry.get(type)?.lane;
    if (lane !== undefined && !laneNames.includes(lane)) {
      throw new JobQueueConfigError(`registry job '${type}' lane`, `one of ${laneNames.join(', ')}`, lane);
    }
  }
}
