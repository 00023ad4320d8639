/**
 * JobQueueBase: what a job queue offers whether this stack owns it (`JobQueue`) or imported it
 * (`JobQueue.fromJobQueueAttributes`): lane lookup, schedules, grants and metrics. The shape
 * follows aws-cdk-lib's own (interface, base, class): grants and metrics are written once here.
 */
import { Annotations, ArnFormat, Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { JobRegistry } from '../lambdas/registry/types';
import { isGroupId } from '../lambdas/shared/checks';
import {
  JOB_METRICS,
  type JobQueueConfig,
  type LaneConfig,
  PRODUCER_ENV,
  RESULT_OBJECTS,
} from '../lambdas/shared/contract';
import { JobQueueConfigError } from './errors';
import type { IJobLane, IJobQueue, JobMetricOptions, JobScheduleOptions } from './interfaces';
import { JobSchedule } from './job-schedule';

/** Lanes whose config JSON still fits Lambda's 4 KB environment with room for other variables. */
const MAX_LANES_IN_PRODUCER_ENV = 5;

/** The one-time schedules of delayed jobs: the client names them `job-<jobId>`. */
const JOB_SCHEDULE_NAMES = 'job-*';

export abstract class JobQueueBase extends Construct implements IJobQueue {
  public abstract readonly ledgerTable: dynamodb.ITable;
  public abstract readonly defaultLane: string;
  public abstract readonly scheduleGroup: scheduler.IScheduleGroup;
  public abstract readonly schedulerRole: iam.IRole;
  public abstract readonly scheduleDeadLetterQueue: sqs.IQueue;
  public abstract readonly encryptionKey?: kms.IKey;
  public abstract readonly resultsBucket?: s3.IBucket;
  public abstract readonly metricsNamespace: string;
  public abstract readonly registry?: JobRegistry;
  public abstract readonly config: JobQueueConfig;
  /** Name of the ledger's search index (`jobSearch: true`), when the queue has one. */
  public abstract readonly searchIndexName?: string;

  /** Lanes by name, in the order they were defined. */
  public abstract readonly lanes: ReadonlyMap<string, IJobLane>;

  /** ARN pattern of the stack whose config output `JobClient.fromStack` and the CLI read, if known. */
  protected abstract configStackArn(): string | undefined;

  /**
   * The config clients need (`JobClient.fromConfig`): every lane, the ledger and the schedule
   * plumbing, in the JSON shape of the stack output.
   */
  protected describeConfig(options: {
    readonly alarmTopicArn: string;
    readonly ledgerTtl: Duration;
    readonly searchIndex?: string;
    readonly functionName: (lane: IJobLane) => string;
    /** The event bus of lifecycle events, when they are on. */
    readonly eventBusName?: string;
  }): JobQueueConfig {
    return {
      version: 1,
      tableName: this.ledgerTable.tableName,
      defaultLane: this.defaultLane,
      lanes: Object.fromEntries(
        [...this.lanes.values()].map((lane): [string, LaneConfig] => [
          lane.name,
          {
            queueUrl: lane.queue.queueUrl,
            queueArn: lane.queue.queueArn,
            dlqUrl: lane.deadLetterQueue.queueUrl,
            dlqArn: lane.deadLetterQueue.queueArn,
            fifo: lane.fifo,
            maxAttempts: lane.maxAttempts,
            maxReceiveCount: lane.maxReceiveCount,
            functionName: options.functionName(lane),
          },
        ]),
      ),
      scheduleGroup: this.scheduleGroup.scheduleGroupName,
      schedulerRoleArn: this.schedulerRole.roleArn,
      scheduleDlqArn: this.scheduleDeadLetterQueue.queueArn,
      alarmTopicArn: options.alarmTopicArn,
      ledgerTtlSeconds: options.ledgerTtl.toSeconds(),
      ...(options.searchIndex !== undefined ? { searchIndex: options.searchIndex } : {}),
      ...(this.resultsBucket === undefined ? {} : { resultsBucket: this.resultsBucket.bucketName }),
      ...(options.eventBusName === undefined ? {} : { eventBusName: options.eventBusName }),
    };
  }

  public get laneNames(): readonly string[] {
    return [...this.lanes.keys()];
  }

  public lane(name: string): IJobLane {
    // A Map: a lane name like `__proto__` or `constructor` is just an unknown lane.
    const lane = this.lanes.get(name);
    if (!lane) throw new JobQueueConfigError('lane', `one of ${this.laneNames.join(', ')}`, name);
    return lane;
  }

  public addSchedule(id: string, options: JobScheduleOptions): JobSchedule {
    return new JobSchedule(this, id, { ...options, jobQueue: this });
  }

  /**
   * Grants what a producer's `JobClient` needs to enqueue, found with `JobClient.fromStack`:
   *
   * - `sqs:SendMessage` on every lane (SendMessage, SendMessageBatch) and `sqs:GetQueueAttributes`
   *   (the lane depth that `backlogLimits` checks);
   * - `dynamodb:PutItem` and `dynamodb:DeleteItem` on the ledger: a keyed job's ENQUEUED item, and
   *   its removal when the send failed, so a retry with the same key is not swallowed; and
   *   `dynamodb:UpdateItem`: a debounced job type's enqueue is one conditional UpdateItem on its
   *   window's ledger item;
   * - `scheduler:CreateSchedule` in this queue's schedule group and `iam:PassRole` on the
   *   scheduler role, only towards `scheduler.amazonaws.com` (delays over 15 minutes, FIFO delays);
   * - `cloudformation:DescribeStacks` on the queue's stack only (`JobClient.fromStack` reads the
   *   config output). Kept because producers outside Lambda (containers, scripts, CI) find the
   *   queue that way; a Lambda producer should use `configureProducer` instead;
   * - with an `encryptionKey`, encrypt and decrypt on it (SQS and DynamoDB use it for the caller).
   *
   * Add `grantStatusRead` for `getJob`. test/unit/lib/grants.test.ts checks every call the client
   * makes against these grants with an IAM policy simulator, and that nothing else is granted.
   */
  public grantEnqueue(grantee: iam.IGrantable): iam.Grant {
    return this.grantSend(grantee).combine(this.grantConfigRead(grantee));
  }

  /**
   * Grants what `JobClient.getJob`, `waitFor`, `getGroup` and `getChain` need (`dynamodb:GetItem`
   * and `dynamodb:BatchGetItem` on the ledger, the latter for a group's counter shards; decrypt with
   * the `encryptionKey` if any; with a results bucket, `s3:GetObject` on its `results/*` objects
   * and decrypt with its key), and `cloudformation:DescribeStacks` on the queue's stack for
   * `JobClient.fromStack`. With the search index (`jobSearch: true`), also what
   * `JobClient.listJobs` needs: `dynamodb:Query` on that index only (not on the table).
   */
  public grantStatusRead(grantee: iam.IGrantable): iam.Grant {
    return this.grantLedger(grantee, 'read', 'dynamodb:GetItem', 'dynamodb:BatchGetItem')
      .combine(this.grantSearch(grantee))
      .combine(this.grantResultsRead(grantee))
      .combine(this.grantConfigRead(grantee));
  }

  /**
   * Grants what `JobClient.cancel` and `sqs-jobs cancel` need:
   *
   * - `dynamodb:GetItem` and `dynamodb:UpdateItem` on the ledger: cancelling is one conditional
   *   UpdateItem (a queued job becomes CANCELLED; a running one gets a second one, the cancel
   *   request its consumer acts on at its next heartbeat), and one read when the item kept
   *   changing under those writes;
   * - `scheduler:DeleteSchedule` on the one-time schedules of this queue's schedule group
   *   (`<group>/job-*`): a delayed job still waiting in its schedule (`job-<jobId>`) is cancelled
   *   by deleting it. Schedules of other groups, and this group's cron schedules (CloudFormation
   *   names them after the stack, so unless the stack's name starts with `job-`), stay out of
   *   reach;
   * - `cloudformation:DescribeStacks` on the queue's stack (`JobClient.fromStack`, the CLI);
   * - with a customer-managed key on the ledger, encrypt and decrypt on it.
   *
   * `grantOperate` includes it. test/unit/lib/grants.test.ts checks these requests against the
   * grant with an IAM policy simulator.
   */
  public grantCancel(grantee: iam.IGrantable): iam.Grant {
    return this.grantLedger(grantee, 'write', 'dynamodb:GetItem', 'dynamodb:UpdateItem')
      .combine(
        iam.Grant.addToPrincipal({
          grantee,
          actions: ['scheduler:DeleteSchedule'],
          resourceArns: [this.scheduleArns(JOB_SCHEDULE_NAMES)],
        }),
      )
      .combine(this.grantConfigRead(grantee));
  }

  /**
   * Makes `fn` a producer without a CloudFormation call: sets the `SQS_JOBS_CONFIG` environment
   * variable (PRODUCER_ENV.config) to this queue's config JSON, for `JobClient.fromEnvironment()`,
   * and grants what enqueueing, `getJob` and `listJobs` need (as `grantEnqueue` + `grantStatusRead`,
   * without `cloudformation:DescribeStacks`). Lambda environment variables share a 4 KB limit; the config
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
    fn.addEnvironment(PRODUCER_ENV.config, Stack.of(fn).toJsonString(this.config));
    return this.grantSend(fn)
      .combine(this.grantLedger(fn, 'read', 'dynamodb:GetItem', 'dynamodb:BatchGetItem'))
      .combine(this.grantSearch(fn))
      .combine(this.grantResultsRead(fn));
  }

  /**
   * Grants what the `sqs-jobs` operator CLI needs for `status`, `stats`, `top`, `schedules`,
   * `cancel` and every `dlq` command (list, retry, delete, redrive, purge):
   *
   * - `cloudformation:DescribeStacks` on the queue's stack (the CLI finds the config output);
   * - on each lane DLQ: receive, change visibility (hand a peeked message back), delete, read
   *   attributes, purge, and start / list message move tasks (a redrive also needs receive, delete
   *   and attributes on its source);
   * - on each lane queue: `sqs:SendMessage` (retry, and a redrive's destination) and
   *   `sqs:GetQueueAttributes` (depths);
   * - `dynamodb:GetItem` and `dynamodb:BatchGetItem` on the ledger (retry and redrive write no
   *   ledger items: the consumer's claim accepts DEAD jobs, so a retried or redriven job needs no
   *   reset; `group` reads a group's counter shards), and `dynamodb:PutItem` (`group --settle`
   *   enqueues a stuck group's callbacks as keyed jobs);
   * - with the search index (`jobSearch: true`), `dynamodb:Query` on that index only, for
   *   `jobs list`;
   * - with a results bucket, `s3:GetObject` on its `results/*` objects (`status` shows a result
   *   stored there);
   * - everything `grantCancel` grants, for `cancel`: `dynamodb:UpdateItem` on the ledger and
   *   `scheduler:DeleteSchedule` in this queue's schedule group;
   * - `scheduler:GetSchedule` in this queue's schedule group and `scheduler:ListSchedules`, which
   *   IAM only grants on `*`;
   * - `cloudwatch:GetMetricData` (no resource-level permissions, so `*`) and
   *   `cloudwatch:DescribeAlarms` on this account and region's alarms (the CLI lists the alarms
   *   that notify this queue's topic);
   * - with an `encryptionKey`, encrypt and decrypt on it.
   *
   * `sqs-jobs enqueue` is a producer call: add `grantEnqueue`. test/unit/lib/grants.test.ts runs
   * every operator command against these grants with an IAM policy simulator.
   */
  public grantOperate(grantee: iam.IGrantable): iam.Grant {
    const lanes = [...this.lanes.values()];
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
        resourceArns: lanes.map((lane) => lane.deadLetterQueue.queueArn),
      }),
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes'],
        resourceArns: lanes.map((lane) => lane.queue.queueArn),
      }),
      this.grantLedger(grantee, 'read', 'dynamodb:GetItem', 'dynamodb:BatchGetItem'),
      this.grantLedger(grantee, 'write', 'dynamodb:PutItem'),
      this.grantSearch(grantee),
      this.grantResultsRead(grantee),
      this.grantCancel(grantee),
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
          Stack.of(this).formatArn({
            service: 'cloudwatch',
            resource: 'alarm',
            resourceName: '*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    ];
    const keyGrant = this.grantQueueKey(grantee);
    if (keyGrant) grants.push(keyGrant);
    return grants.reduce((all, grant) => all.combine(grant));
  }

  public metricQueueDepth(lane: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.lane(lane).queue.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(1),
      statistic: 'Maximum',
      ...props,
    });
  }

  public metricAgeOfOldestJob(lane: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.lane(lane).queue.metricApproximateAgeOfOldestMessage({
      period: Duration.minutes(1),
      statistic: 'Maximum',
      ...props,
    });
  }

  public metricDeadLetterQueueDepth(lane: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.lane(lane).deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(1),
      statistic: 'Maximum',
      ...props,
    });
  }

  public metricJobsSucceeded(jobType: string, props?: JobMetricOptions): cloudwatch.Metric {
    return this.jobMetric(JOB_METRICS.names.succeeded, jobType, 'Sum', props);
  }

  public metricJobsFailed(jobType: string, props?: JobMetricOptions): cloudwatch.Metric {
    return this.jobMetric(JOB_METRICS.names.failed, jobType, 'Sum', props);
  }

  public metricJobsRetried(jobType: string, props?: JobMetricOptions): cloudwatch.Metric {
    return this.jobMetric(JOB_METRICS.names.retried, jobType, 'Sum', props);
  }

  public metricJobsDeadLettered(jobType: string, props?: JobMetricOptions): cloudwatch.Metric {
    return this.jobMetric(JOB_METRICS.names.deadLettered, jobType, 'Sum', props);
  }

  public metricJobDuration(jobType: string, props?: JobMetricOptions): cloudwatch.Metric {
    return this.jobMetric(JOB_METRICS.names.duration, jobType, 'p99', props);
  }

  public metricJobsCancelled(jobType: string, props?: JobMetricOptions): cloudwatch.Metric {
    return this.jobMetric(JOB_METRICS.names.cancelled, jobType, 'Sum', props);
  }

  public metricJobsLimited(jobType: string, props?: JobMetricOptions): cloudwatch.Metric {
    return this.jobMetric(JOB_METRICS.names.limited, jobType, 'Sum', props);
  }

  /**
   * A metric the consumer emits with exactly the dimensions {JobType, Lane}, or with
   * {JobType, Lane, Tenant} for a `tenant` (job types with `tenantMetrics: true`).
   */
  private jobMetric(
    metricName: string,
    jobType: string,
    statistic: string,
    props: JobMetricOptions = {},
  ): cloudwatch.Metric {
    // `lane` and `tenant` are dimensions, not Metric props: neither may reach cloudwatch.Metric.
    const { lane: laneOption, tenant, ...options } = props;
    const laneName = laneOption ?? this.registry?.get(jobType)?.lane ?? this.defaultLane;
    this.lane(laneName);
    if (tenant !== undefined) checkTenant(tenant);
    return new cloudwatch.Metric({
      namespace: this.metricsNamespace,
      metricName,
      dimensionsMap: {
        [JOB_METRICS.dimensions.jobType]: jobType,
        [JOB_METRICS.dimensions.lane]: laneName,
        ...(tenant === undefined ? {} : { [JOB_METRICS.dimensions.tenant]: tenant }),
      },
      period: Duration.minutes(5),
      statistic,
      ...options,
    });
  }

  /** `cloudformation:DescribeStacks` on the queue's stack only: what `JobClient.fromStack` and the CLI call. */
  /**
   * `getJob` reads a result stored in S3: `s3:GetObject` on the result objects only (not the
   * bucket's other keys, no listing), and decrypt with the bucket's key if it has one.
   */
  private grantResultsRead(grantee: iam.IGrantable): iam.Grant {
    const bucket = this.resultsBucket;
    if (bucket === undefined) return iam.Grant.drop(grantee, 'the queue has no results bucket');
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:GetObject'],
      resourceArns: [bucket.arnForObjects(`${RESULT_OBJECTS.prefix}*`)],
    });
    return bucket.encryptionKey ? grant.combine(bucket.encryptionKey.grantDecrypt(grantee)) : grant;
  }

  private grantConfigRead(grantee: iam.IGrantable): iam.Grant {
    const stackArn = this.configStackArn();
    if (!stackArn) return iam.Grant.drop(grantee, 'the stack of an imported job queue is unknown');
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['cloudformation:DescribeStacks'],
      resourceArns: [stackArn],
    });
  }

  /**
   * Ledger actions, with the key actions DynamoDB needs for the caller when the table has a
   * customer-managed key (the queue's `encryptionKey`, or the key of a table given as `ledgerTable`).
   */
  private grantLedger(grantee: iam.IGrantable, access: 'read' | 'write', ...actions: string[]): iam.Grant {
    // The table's ARN only: Table.grant adds `<table>/index/*` once the table has an index, and
    // item reads and writes need no index rights (listJobs' Query is granted on its index alone).
    const grant = iam.Grant.addToPrincipal({ grantee, actions, resourceArns: [this.ledgerTable.tableArn] });
    const key = this.ledgerTable.encryptionKey;
    if (!key) return grant;
    return grant.combine(access === 'read' ? key.grantDecrypt(grantee) : key.grantEncryptDecrypt(grantee));
  }

  /**
   * `dynamodb:Query` on the search index only (`<table ARN>/index/<name>`): `listJobs` reads
   * nothing else. The table's key, if any, is granted with the ledger read that comes with it.
   */
  private grantSearch(grantee: iam.IGrantable): iam.Grant {
    if (this.searchIndexName === undefined) return iam.Grant.drop(grantee, 'the queue has no search index');
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:Query'],
      resourceArns: [`${this.ledgerTable.tableArn}/index/${this.searchIndexName}`],
    });
  }

  /** SQS encrypts and decrypts messages with the queues' key on the caller's behalf. */
  private grantQueueKey(grantee: iam.IGrantable): iam.Grant | undefined {
    return this.encryptionKey?.grantEncryptDecrypt(grantee);
  }

  /** Sending to the lanes, the keyed ledger writes and one-time schedules: every enqueue path. */
  private grantSend(grantee: iam.IGrantable): iam.Grant {
    const grants = [...this.lanes.values()].map((lane) =>
      lane.queue.grant(grantee, 'sqs:SendMessage', 'sqs:GetQueueAttributes'),
    );
    // PutItem: a keyed job's ENQUEUED item; DeleteItem: its removal when the send failed;
    // UpdateItem: a debounced job type's enqueue, one conditional UpdateItem on the window's item.
    grants.push(
      this.grantLedger(grantee, 'write', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem'),
    );
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
    const keyGrant = this.grantQueueKey(grantee);
    if (keyGrant) grants.push(keyGrant);
    return grants.reduce((all, grant) => all.combine(grant));
  }

  /**
   * Schedules in this queue's group whose names match `names`: by default every one, cron
   * schedules and the one-time `job-<jobId>` schedules of delayed jobs.
   */
  private scheduleArns(names = '*'): string {
    return Stack.of(this).formatArn({
      service: 'scheduler',
      resource: 'schedule',
      resourceName: `${this.scheduleGroup.scheduleGroupName}/${names}`,
    });
  }
}

/** A metric's `tenant`: what the consumer can have emitted as a Tenant dimension. */
function checkTenant(tenant: string): void {
  if (Token.isUnresolved(tenant)) return;
  // A tenant follows the SQS MessageGroupId rule: it is its job's message group on standard lanes.
  if (!isGroupId(tenant)) {
    throw new JobQueueConfigError(
      'tenant',
      'a string of 1-128 letters, digits and ASCII punctuation (the SQS MessageGroupId rule)',
      tenant,
    );
  }
}
