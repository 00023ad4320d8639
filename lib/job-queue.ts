/**
 * JobQueue: priority lanes with DLQs and consumers, the DynamoDB job ledger, the schedule group
 * and scheduler role, alarms and a dashboard, checked for cross-resource invariants at synth time.
 * `JobQueue.fromJobQueueAttributes` imports one defined in another stack or app.
 */
import {
  ArnFormat,
  Aws,
  CfnElement,
  CfnOutput,
  Duration,
  Names,
  RemovalPolicy,
  Stack,
  Token,
  Validations,
} from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { JobRegistry } from '../lambdas/registry/types';
// The backoff module is pure (no SDK), like the contract: the construct checks the TTL with the
// very function the consumer schedules retries with.
import { MAX_BACKOFF_SECONDS, retryHorizonSeconds } from '../lambdas/shared/backoff';
import {
  CONFIG_OUTPUT_DESCRIPTION,
  CONSUMER_ENV,
  type JobQueueConfig,
  LEDGER_ATTR,
  RESULT_OBJECTS,
  SEARCH_INDEX,
} from '../lambdas/shared/contract';
import { DEFAULTS } from '../lambdas/shared/defaults';
import { JobQueueConfigError } from './errors';
import type { IJobLane, IJobQueue, IOwnedJobLane, JobLaneAttributes, JobQueueAttributes } from './interfaces';
import { JobQueueBase } from './job-queue-base';
import {
  type JobQueueAlarmOptions,
  JobQueueMonitoring,
  MONITORING_PROFILES,
  type MonitoringProfile,
} from './job-queue-monitoring';
import { JOB_SEARCH_INDEX } from './job-search-index';
import {
  DEFAULT_LANES,
  DLQ_RETENTION,
  type LaneOptions,
  MAX_ATTEMPTS,
  type ResolvedLane,
  resolveLanes,
} from './lanes';
import { type ConsumerEntry, consumerEntry } from './private/consumer-entry';
import {
  type ConsumerSettings,
  DEFAULT_CONSUMER_RUNTIME,
  JobLane,
  queueEncryption,
} from './private/job-lane';
import { createResultsBucket } from './private/results-bucket';
import { checkInt, checkOneOf, checkSeconds } from './private/validate';

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
   * Concurrency budget shared by all lanes by weight; each lane gets at least 2. Lanes with
   * `provisionedPollers` take no share (their pollers bound them): the budget is split among the
   * other lanes, and is not used when every lane is provisioned.
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
   * Consumer runtime: a Node.js runtime; the bundle targets its version.
   *
   * @default lambda.Runtime.NODEJS_24_X
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
   * With `jobSearch: true` it must also have the search index: `addGlobalSecondaryIndex(JOB_SEARCH_INDEX)`.
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
   * Keep a search index on the ledger, for `JobClient.listJobs` and `sqs-jobs jobs list` (jobs by
   * status, type, lane and time, newest first): a global secondary index (JOB_SEARCH_INDEX, named
   * `byStatus`) keyed by status and shard and sorted by the time of the last status change, and
   * the consumers set its keys on every status write.
   *
   * Cost: DynamoDB writes the index whenever a write changes a job's index keys or its projected
   * attributes, 1 write unit per entry (they are under 1 KB): a new entry is a put, a status change
   * moves the entry (delete + put). A strict job that succeeds first time costs 3 index write units
   * (the claim puts its RUNNING entry, SUCCEEDED moves it), $1.88 per million jobs at $0.625 per
   * million write units, on top of the ledger's own writes. A keyed job adds 2 (its ENQUEUED entry,
   * which the claim then moves), each retry 4 (RUNNING to FAILED, FAILED to RUNNING), and each
   * other write of a live entry 1 (progress, lease renewals: they change `updatedAt`). Index
   * storage is about 200 bytes per job while its ledger item lives.
   * A listing costs at least one Query per status shard (8 per status), 0.5 read units each.
   *
   * With your own `ledgerTable`, add the index to it yourself:
   * `table.addGlobalSecondaryIndex(JOB_SEARCH_INDEX)`.
   *
   * @default false
   */
  readonly jobSearch?: boolean;

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
   * Create the CloudWatch dashboard ($3 a month).
   *
   * @default - true with `monitoringProfile: 'full'`, false with `'lean'`
   */
  readonly dashboard?: boolean;

  /**
   * How much monitoring to pay for each month.
   *
   * - `'full'`: every alarm (per lane: depth, oldest-message age, DLQ depth, DLQ growth, consumer
   *   errors, throttles, p99 duration; five scheduler delivery alarms), the dashboard, and the
   *   consumers' per-job-type custom metrics (EMF).
   * - `'lean'`: the design docs' alerting table and nothing more: per lane depth, DLQ depth, DLQ
   *   growth, consumer errors, throttles and p99 duration, plus the schedule DLQ and lost
   *   schedule deliveries; no dashboard; no custom metrics (nothing in the stack reads them: every
   *   alarm reads SQS and Lambda metrics, which are free).
   *
   * Each alarm carries its severity (`monitoring.severities`, and `[critical]` / `[warning]` at the
   * start of its description). `dashboard` and `jobMetrics` override the profile's choice.
   * Cost at CloudWatch list prices (us-east-1): $0.10 per alarm metric, $3 per dashboard, $0.30
   * per custom metric (job type × lane × metric name) a month; `npm run cost` prints the bill.
   *
   * @default 'full'
   */
  readonly monitoringProfile?: MonitoringProfile;

  /**
   * The consumers emit per-job-type metrics (JobSucceeded, JobFailed, JobDuration, ... in
   * `metricsNamespace`, as EMF log documents) that the dashboard, `sqs-jobs console`'s charts and
   * `metricJobsSucceeded()` and its siblings read. Each metric name × job type × lane (× tenant,
   * for `tenantMetrics` jobs) that is emitted bills as a custom metric, $0.30 a month.
   *
   * @default - true with `monitoringProfile: 'full'`, false with `'lean'`
   */
  readonly jobMetrics?: boolean;

  /**
   * The consumers' log level (POWERTOOLS_LOG_LEVEL): `DEBUG`, `INFO`, `WARN` or `ERROR`. Each
   * job's outcome line is written at debug when it succeeded or was a duplicate, at info when it
   * was acknowledged unrun (cancelled, superseded, limited), at warn when it will be retried or
   * was deferred and at error when it was dead-lettered or lost. `DEBUG` adds one line of about
   * 290 bytes per successful job: $0.14 per million jobs of CloudWatch Logs ingestion.
   *
   * @default 'INFO'
   */
  readonly consumerLogLevel?: ConsumerLogLevel;

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

  /**
   * A customer-managed KMS key for the lane queues, their DLQs, the schedule DLQ, the ledger
   * table (when this construct creates it) and the consumer log groups. Every grant (consumers,
   * scheduler role, `grantEnqueue`, `grantStatusRead`, `grantOperate`, `configureProducer`) then
   * includes the key actions SQS and DynamoDB need, and the key policy lets CloudWatch Logs use
   * it for this account's log groups (for a key imported from elsewhere, add that statement to
   * its policy yourself).
   *
   * @default - SQS-managed encryption for the queues, an AWS-managed key for the ledger, and
   * CloudWatch Logs' own encryption for the log groups
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Where job results over the ledger's inline limit (400 bytes of JSON) are kept, so `getJob`
   * and `waitFor` return them whole: the consumer writes such a result to
   * `results/<jobId>/<random>.json` before the job's SUCCEEDED write, the ledger item keeps only the
   * key, and `getJob` reads it back. Results over 5 MB are never stored (the ledger gets a note).
   *
   * - `true`: a new bucket, private (all public access blocked, TLS only), encrypted with
   *   `encryptionKey` (an S3 bucket key keeps KMS calls few) or else S3-managed keys, whose
   *   `results/` objects expire after the ledger TTL rounded up to days; removed with the stack
   *   under `removalPolicy` (a bucket that still holds objects fails to delete: empty it first).
   * - a bucket: your own. The consumers get `s3:PutObject` on its `results/*` objects and
   *   `grantStatusRead` `s3:GetObject` on them; its encryption and lifecycle are yours to set.
   * - `false`: no bucket; a large result is replaced by a note `{"omitted": ...}`, as before.
   *
   * Cost: one S3 PUT ($5 per million) per large result, one GET ($0.40 per million) per
   * `getJob` that returns one, and storage until expiry; results under the limit cost nothing here.
   *
   * @default true
   */
  readonly resultsBucket?: boolean | s3.IBucket;

  /**
   * Lifecycle events on EventBridge: after each batch the consumers send one event per job that
   * ended SUCCEEDED (its handler ran), DEAD or CANCELLED, with source `sqs-jobs` and detail type
   * `Job Succeeded`, `Job Dead-Lettered` or `Job Cancelled` (LIFECYCLE_EVENTS in
   * `sqs-jobs/runtime`). `true` sends them to the account's default event bus; `{ eventBus }` to
   * that bus. The consumers get `events:PutEvents` on that bus only. Delivery is at least once
   * and best effort: see the README's "Lifecycle events" section.
   *
   * Cost: $1 per million events (PutEvents, 64 KB chunks), at most one call per 10 events.
   *
   * @default false
   */
  readonly lifecycleEvents?: boolean | LifecycleEventsOptions;
}

/** A consumer log level (`JobQueueProps.consumerLogLevel`). */
export type ConsumerLogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
const CONSUMER_LOG_LEVELS: readonly ConsumerLogLevel[] = ['DEBUG', 'INFO', 'WARN', 'ERROR'];

/** Where lifecycle events go (`JobQueueProps.lifecycleEvents`). */
export interface LifecycleEventsOptions {
  /**
   * The event bus the consumers send lifecycle events to.
   *
   * @default - the account's default event bus
   */
  readonly eventBus?: events.IEventBus;
}

/** Lambda's own limits for a function timeout. */
const MAX_CONSUMER_TIMEOUT_SECONDS = 900;

/** Every prop with its default applied and checked: what the steps of the constructor build from. */
interface ResolvedJobQueueProps extends ConsumerSettings {
  readonly lanes: ResolvedLane[];
  readonly defaultLane: string;
  readonly monitoringProfile: MonitoringProfile;
  readonly dashboard: boolean;
}

export class JobQueue extends JobQueueBase {
  /**
   * A job queue defined in another stack or app, to enqueue into, schedule jobs for and grant
   * access to without owning it. Its attributes are in the owning stack's config output
   * (`JobQueue.fromJobQueueConfig` takes that JSON as it is); within one CDK app, pass the
   * `JobQueue` itself instead.
   */
  public static fromJobQueueAttributes(scope: Construct, id: string, attrs: JobQueueAttributes): IJobQueue {
    return new ImportedJobQueue(scope, id, attrs);
  }

  /**
   * A job queue from the JSON its stack publishes as the `sqs-jobs:config` output (what
   * `JobClient.fromStack` reads), for an app that deploys separately from the queue's.
   */
  public static fromJobQueueConfig(
    scope: Construct,
    id: string,
    config: JobQueueConfig,
    options: Pick<JobQueueAttributes, 'encryptionKey' | 'metricsNamespace' | 'registry' | 'stackName'> = {},
  ): IJobQueue {
    return new ImportedJobQueue(scope, id, {
      ...options,
      ledgerTableArn: Stack.of(scope).formatArn({
        service: 'dynamodb',
        resource: 'table',
        resourceName: config.tableName,
      }),
      lanes: Object.fromEntries(
        Object.entries(config.lanes).map(([name, lane]): [string, JobLaneAttributes] => [
          name,
          {
            queueArn: lane.queueArn,
            queueUrl: lane.queueUrl,
            deadLetterQueueArn: lane.dlqArn,
            deadLetterQueueUrl: lane.dlqUrl,
            fifo: lane.fifo,
            maxAttempts: lane.maxAttempts,
            maxReceiveCount: lane.maxReceiveCount,
            consumerFunctionName: lane.functionName,
          },
        ]),
      ),
      defaultLane: config.defaultLane,
      scheduleGroupName: config.scheduleGroup,
      schedulerRoleArn: config.schedulerRoleArn,
      scheduleDeadLetterQueueArn: config.scheduleDlqArn,
      alarmTopicArn: config.alarmTopicArn,
      ledgerTtl:
        config.ledgerTtlSeconds === undefined ? undefined : Duration.seconds(config.ledgerTtlSeconds),
      searchIndex: config.searchIndex,
      resultsBucketName: config.resultsBucket,
    });
  }

  /** The job ledger: idempotency and status record in one item per job. */
  public readonly ledgerTable: dynamodb.ITable;
  /** Lanes by name, in the order they were defined. */
  public readonly lanes: ReadonlyMap<string, IOwnedJobLane>;
  public readonly defaultLane: string;
  public readonly scheduleGroup: scheduler.IScheduleGroup;
  public readonly schedulerRole: iam.IRole;
  public readonly scheduleDeadLetterQueue: sqs.IQueue;
  public readonly encryptionKey?: kms.IKey;
  /** Bucket of the results over the ledger's inline limit (`resultsBucket`), unless turned off. */
  public readonly resultsBucket?: s3.IBucket;
  /** The bus lifecycle events go to, when `lifecycleEvents` is on. */
  public readonly eventBus?: events.IEventBus;
  public readonly metricsNamespace: string;
  /** Alarms and dashboard. */
  public readonly monitoring: JobQueueMonitoring;
  public readonly config: JobQueueConfig;
  /** The registry given in the props, if any: schedules are checked against it at synth time. */
  public readonly registry?: JobRegistry;
  /** The ledger's search index (`jobSearch: true`), else undefined. */
  public readonly searchIndexName?: string;

  constructor(scope: Construct, id: string, props: JobQueueProps) {
    super(scope, id);
    const resolved = resolveProps(props);
    this.defaultLane = resolved.defaultLane;
    this.metricsNamespace = resolved.metricsNamespace;
    this.encryptionKey = props.encryptionKey;
    this.registry = props.registry;
    if (this.registry)
      checkJobLanes(
        this.registry,
        resolved.lanes.map((lane) => lane.name),
      );

    this.searchIndexName = props.jobSearch ? SEARCH_INDEX.name : undefined;
    this.ledgerTable =
      props.ledgerTable ?? this.createLedger(props.ledgerRemovalPolicy ?? resolved.removalPolicy);
    if (this.encryptionKey) allowLogsToUseKey(this.encryptionKey);
    this.resultsBucket =
      props.resultsBucket === false
        ? undefined
        : props.resultsBucket === undefined || props.resultsBucket === true
          ? createResultsBucket(this, 'Results', {
              encryptionKey: this.encryptionKey,
              ledgerTtl: resolved.ledgerTtl,
              removalPolicy: resolved.removalPolicy,
            })
          : props.resultsBucket;
    this.eventBus =
      props.lifecycleEvents === undefined || props.lifecycleEvents === false
        ? undefined
        : ((props.lifecycleEvents === true ? undefined : props.lifecycleEvents.eventBus) ??
          events.EventBus.fromEventBusName(this, 'DefaultEventBus', 'default'));
    const entry = consumerEntry(props.registryEntry, props.registryExport ?? 'registry');
    const lanes = this.createLanes(props, resolved, entry);
    this.lanes = lanes;
    this.scheduleDeadLetterQueue = this.createScheduleDeadLetterQueue(resolved.removalPolicy);
    this.scheduleGroup = new scheduler.ScheduleGroup(this, 'Schedules');
    this.schedulerRole = this.createSchedulerRole([...lanes.values()]);
    this.monitoring = new JobQueueMonitoring(this, 'Monitoring', {
      jobQueue: this,
      lanes: [...lanes.values()],
      consumerTimeout: resolved.consumerTimeout,
      alarms: props.alarms,
      alarmTopic: props.alarmTopic,
      dashboard: resolved.dashboard,
      profile: resolved.monitoringProfile,
    });
    this.config = this.publishConfig(resolved.ledgerTtl);
  }

  /** Returns the lane with its consumer, or throws naming the lanes that exist. */
  public override lane(name: string): IOwnedJobLane {
    return super.lane(name) as IOwnedJobLane;
  }

  protected configStackArn(): string {
    const stack = Stack.of(this);
    return stack.formatArn({
      service: 'cloudformation',
      resource: 'stack',
      resourceName: `${stack.stackName}/*`,
    });
  }

  /** One lane construct per resolved lane: queue, DLQ and consumer, with the consumer's ledger grant. */
  private createLanes(
    props: JobQueueProps,
    resolved: ResolvedJobQueueProps,
    entry: ConsumerEntry,
  ): Map<string, JobLane> {
    const serviceName = Names.uniqueResourceName(this, { maxLength: 64 });
    const lanes = new Map<string, JobLane>();
    const {
      lanes: _lanes,
      defaultLane: _defaultLane,
      monitoringProfile: _profile,
      dashboard: _dashboard,
      ...settings
    } = resolved;
    for (const lane of resolved.lanes) {
      const jobLane = new JobLane(this, `Lane-${lane.name}`, {
        ...settings,
        lane,
        entry,
        ledgerTableName: this.ledgerTable.tableName,
        serviceName,
        bundleAwsSdk: props.bundleAwsSdk ?? false,
        logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
        runtime: props.consumerRuntime ?? DEFAULT_CONSUMER_RUNTIME,
        environment: props.consumerEnvironment ?? {},
        searchIndex: this.searchIndexName !== undefined,
        encryptionKey: this.encryptionKey,
      });
      // Every consumer write is a conditional UpdateItem (claim, complete, fail, progress, lease,
      // outcome; a group member's end adds it to a set on its group's counter shard); optimistic
      // mode reads first. Groups and chains: a callback or next step is a keyed job (PutItem), and
      // completing a group reads its counter shards (BatchGetItem). test/unit/lib/grants.test.ts
      // proves the set. On the table only (Table.grant would add `<table>/index/*` with the search
      // index on): DynamoDB maintains the index on the consumer's writes without rights on it.
      iam.Grant.addToPrincipal({
        grantee: jobLane.consumer,
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:PutItem', 'dynamodb:BatchGetItem'],
        resourceArns: [this.ledgerTable.tableArn],
      });
      this.ledgerTable.encryptionKey?.grantEncryptDecrypt(jobLane.consumer);
      this.connectResultsAndEvents(jobLane.consumer);
      lanes.set(lane.name, jobLane);
    }
    // A group's callback or a chain's next step may go to any lane.
    for (const from of lanes.values()) {
      for (const to of lanes.values()) {
        if (to !== from) to.queue.grantSendMessages(from.consumer);
      }
    }
    return lanes;
  }

  /**
   * A consumer writes large results (only `s3:PutObject`, only under `results/`) and sends
   * lifecycle events (only `events:PutEvents`, only on the chosen bus).
   */
  private connectResultsAndEvents(consumer: lambda.Function): void {
    if (this.resultsBucket) {
      consumer.addEnvironment(CONSUMER_ENV.resultsBucket, this.resultsBucket.bucketName);
      iam.Grant.addToPrincipal({
        grantee: consumer,
        actions: ['s3:PutObject'],
        resourceArns: [this.resultsBucket.arnForObjects(`${RESULT_OBJECTS.prefix}*`)],
      });
      // SSE-KMS: S3 asks KMS for a data key on the writer's behalf.
      this.resultsBucket.encryptionKey?.grant(consumer, 'kms:GenerateDataKey');
      const bucketResource = this.resultsBucket.node.defaultChild;
      if (bucketResource instanceof CfnElement) {
        const bucketId = Stack.of(this).getLogicalId(bucketResource);
        // On the role: its policy is where the finding is (the role is not inside the function).
        Validations.of(consumer.role ?? consumer).acknowledge({
          id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${RESULT_OBJECTS.prefix}*]`,
          reason:
            'Result object keys are made per job at run time (results/<jobId>/<random>.json); the wildcard stops at the results/ prefix and the action is s3:PutObject only.',
        });
      }
    }
    if (this.eventBus) {
      consumer.addEnvironment(CONSUMER_ENV.eventBus, this.eventBus.eventBusName);
      this.eventBus.grantPutEventsTo(consumer);
    }
  }

  private createScheduleDeadLetterQueue(removalPolicy: RemovalPolicy): sqs.Queue {
    const queue = new sqs.Queue(this, 'ScheduleDeadLetterQueue', {
      ...queueEncryption(this.encryptionKey),
      enforceSSL: true,
      retentionPeriod: DLQ_RETENTION,
      removalPolicy,
    });
    Validations.of(queue).acknowledge(
      {
        id: 'AwsSolutions-SQS3',
        reason: 'This queue is itself the dead-letter queue of the EventBridge Scheduler targets.',
      },
      {
        id: 'Serverless-SQSRedrivePolicy',
        reason: 'This queue is itself the dead-letter queue of the EventBridge Scheduler targets.',
      },
    );
    return queue;
  }

  /** The role Scheduler assumes: it only sends (to the lanes, and failed deliveries to its DLQ). */
  private createSchedulerRole(lanes: readonly JobLane[]): iam.Role {
    const role = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'Lets EventBridge Scheduler deliver cron and delayed jobs to the lanes',
    });
    for (const lane of lanes) lane.queue.grant(role, 'sqs:SendMessage');
    this.scheduleDeadLetterQueue.grant(role, 'sqs:SendMessage');
    this.encryptionKey?.grantEncryptDecrypt(role);
    return role;
  }

  /** The config clients need, as a property and as the stack output `JobClient.fromStack` reads. */
  private publishConfig(ledgerTtl: Duration): JobQueueConfig {
    const config = this.describeConfig({
      alarmTopicArn: this.monitoring.alarmTopic.topicArn,
      ledgerTtl,
      searchIndex: this.searchIndexName,
      functionName: (lane) => this.lane(lane.name).consumer.functionName,
      eventBusName: this.eventBus?.eventBusName,
    });
    new CfnOutput(this, 'Config', {
      description: CONFIG_OUTPUT_DESCRIPTION,
      value: Stack.of(this).toJsonString(config),
    });
    return config;
  }

  private createLedger(removalPolicy: RemovalPolicy): dynamodb.ITable {
    const table = new dynamodb.Table(this, 'Ledger', {
      partitionKey: { name: LEDGER_ATTR.jobId, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: LEDGER_ATTR.expiresAt,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      ...(this.encryptionKey
        ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: this.encryptionKey }
        : { encryption: dynamodb.TableEncryption.AWS_MANAGED }),
      removalPolicy,
    });
    if (this.searchIndexName !== undefined) table.addGlobalSecondaryIndex(JOB_SEARCH_INDEX);
    return table;
  }
}

/** Applies every default (from lambdas/shared/defaults.ts) and checks each prop and their relations. */
function resolveProps(props: JobQueueProps): ResolvedJobQueueProps {
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

  const lanes = resolveLanes(props.lanes ?? DEFAULT_LANES, {
    batchSize: props.batchSize ?? DEFAULTS.batchSize,
    maxBatchingWindow: props.maxBatchingWindow ?? Duration.seconds(0),
    totalConcurrency: props.totalConcurrency ?? DEFAULTS.totalConcurrency,
  });
  const laneNames = lanes.map((lane) => lane.name);
  const defaultLane = props.defaultLane ?? (laneNames.includes('default') ? 'default' : laneNames[0]);
  if (!laneNames.includes(defaultLane)) {
    throw new JobQueueConfigError('defaultLane', `one of ${laneNames.join(', ')}`, defaultLane);
  }

  // A ledger item must outlive every retry of its job, or a late retry would run a finished job again.
  // The runtime's own backoff decides the delays: a lane of N attempts waits after the first N - 1.
  const ledgerTtl = props.ledgerTtl ?? Duration.seconds(DEFAULTS.ledgerTtlSeconds);
  const backoff = { baseSeconds: backoffBase.toSeconds(), capSeconds: backoffCap.toSeconds() };
  const horizon = Math.max(...lanes.map((lane) => retryHorizonSeconds(lane.maxAttempts - 1, backoff)));
  checkSeconds('ledgerTtl', ledgerTtl, Math.max(horizon, 3600), 365 * 24 * 3600);

  const monitoringProfile = props.monitoringProfile ?? 'full';
  checkOneOf('monitoringProfile', monitoringProfile, MONITORING_PROFILES);
  const consumerLogLevel = props.consumerLogLevel ?? 'INFO';
  checkOneOf('consumerLogLevel', consumerLogLevel, CONSUMER_LOG_LEVELS);
  const full = monitoringProfile === 'full';

  return {
    lanes,
    defaultLane,
    monitoringProfile,
    dashboard: props.dashboard ?? full,
    jobMetrics: props.jobMetrics ?? full,
    consumerLogLevel,
    consumerTimeout,
    memorySize,
    batchParallelism,
    backoffBase,
    backoffCap,
    ledgerTtl,
    // Queues and the ledger hold work and history: kept unless the user opts out.
    removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    metricsNamespace: props.metricsNamespace ?? DEFAULTS.metricsNamespace,
  };
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

/**
 * CloudWatch Logs encrypts a log group with a customer-managed key only if the key policy lets
 * the regional Logs service use it for log groups of this account. A no-op for imported keys.
 */
function allowLogsToUseKey(key: kms.IKey): void {
  const stack = Stack.of(key);
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: '*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
      },
    }),
  );
}

/** A lane of an imported queue: its queues from their ARNs, no consumer. */
class ImportedJobLane implements IJobLane {
  public readonly queue: sqs.IQueue;
  public readonly deadLetterQueue: sqs.IQueue;
  public readonly fifo: boolean;
  public readonly maxAttempts: number;
  public readonly maxReceiveCount?: number;

  constructor(
    scope: Construct,
    public readonly name: string,
    attrs: JobLaneAttributes,
    key: kms.IKey | undefined,
  ) {
    const at = `lanes.${name}`;
    this.maxAttempts = attrs.maxAttempts ?? DEFAULTS.maxAttempts;
    checkInt(`${at}.maxAttempts`, this.maxAttempts, 1, MAX_ATTEMPTS);
    this.maxReceiveCount = attrs.maxReceiveCount;
    this.fifo = attrs.fifo ?? (!Token.isUnresolved(attrs.queueArn) && attrs.queueArn.endsWith('.fifo'));
    this.queue = sqs.Queue.fromQueueAttributes(scope, `Lane-${name}-Queue`, {
      queueArn: attrs.queueArn,
      queueUrl: attrs.queueUrl,
      fifo: this.fifo,
      keyArn: key?.keyArn,
    });
    this.deadLetterQueue = sqs.Queue.fromQueueAttributes(scope, `Lane-${name}-DeadLetterQueue`, {
      queueArn: attrs.deadLetterQueueArn,
      queueUrl: attrs.deadLetterQueueUrl,
      fifo: this.fifo,
      keyArn: key?.keyArn,
    });
  }
}

/** What `fromJobQueueAttributes` returns: the grants, metrics and schedules of JobQueueBase. */
class ImportedJobQueue extends JobQueueBase {
  public readonly ledgerTable: dynamodb.ITable;
  public readonly lanes: ReadonlyMap<string, IJobLane>;
  public readonly defaultLane: string;
  public readonly scheduleGroup: scheduler.IScheduleGroup;
  public readonly schedulerRole: iam.IRole;
  public readonly scheduleDeadLetterQueue: sqs.IQueue;
  public readonly encryptionKey?: kms.IKey;
  public readonly resultsBucket?: s3.IBucket;
  public readonly metricsNamespace: string;
  public readonly registry?: JobRegistry;
  public readonly config: JobQueueConfig;
  public readonly searchIndexName?: string;
  private readonly stackName?: string;

  constructor(scope: Construct, id: string, attrs: JobQueueAttributes) {
    super(scope, id);
    const laneNames = Object.keys(attrs.lanes ?? {});
    if (laneNames.length === 0) {
      throw new JobQueueConfigError('lanes', 'at least one lane (name → queue and DLQ ARNs)', attrs.lanes);
    }
    this.defaultLane = attrs.defaultLane ?? (laneNames.includes('default') ? 'default' : laneNames[0]);
    if (!laneNames.includes(this.defaultLane)) {
      throw new JobQueueConfigError('defaultLane', `one of ${laneNames.join(', ')}`, this.defaultLane);
    }
    this.encryptionKey = attrs.encryptionKey;
    this.resultsBucket =
      attrs.resultsBucketName === undefined
        ? undefined
        : s3.Bucket.fromBucketAttributes(this, 'Results', {
            bucketName: attrs.resultsBucketName,
            encryptionKey: attrs.encryptionKey,
          });
    this.metricsNamespace = attrs.metricsNamespace ?? DEFAULTS.metricsNamespace;
    this.registry = attrs.registry;
    if (this.registry) checkJobLanes(this.registry, laneNames);
    this.stackName = attrs.stackName;
    this.searchIndexName = attrs.searchIndex;
    this.ledgerTable = dynamodb.Table.fromTableAttributes(this, 'Ledger', {
      tableArn: attrs.ledgerTableArn,
      encryptionKey: attrs.encryptionKey,
    });
    this.lanes = new Map(
      laneNames.map((name) => [
        name,
        new ImportedJobLane(this, name, attrs.lanes[name], attrs.encryptionKey),
      ]),
    );
    this.scheduleGroup = scheduler.ScheduleGroup.fromScheduleGroupName(
      this,
      'Schedules',
      attrs.scheduleGroupName,
    );
    this.schedulerRole = iam.Role.fromRoleArn(this, 'SchedulerRole', attrs.schedulerRoleArn, {
      mutable: false,
    });
    this.scheduleDeadLetterQueue = sqs.Queue.fromQueueAttributes(this, 'ScheduleDeadLetterQueue', {
      queueArn: attrs.scheduleDeadLetterQueueArn,
      keyArn: attrs.encryptionKey?.keyArn,
    });
    this.config = this.describeConfig({
      alarmTopicArn: attrs.alarmTopicArn ?? '',
      ledgerTtl: attrs.ledgerTtl ?? Duration.seconds(DEFAULTS.ledgerTtlSeconds),
      searchIndex: attrs.searchIndex,
      functionName: (lane) => attrs.lanes[lane.name].consumerFunctionName ?? '',
    });
  }

  protected configStackArn(): string | undefined {
    if (this.stackName === undefined) return undefined;
    return Stack.of(this).formatArn({
      service: 'cloudformation',
      resource: 'stack',
      resourceName: `${this.stackName}/*`,
    });
  }
}
