/**
 * The contract between the construct library (lib/) and the runtime (lambdas/).
 *
 * This file has no imports on purpose: the constructs import it to name environment variables and
 * output keys, the runtime imports it to read them, and neither side pulls in the other's
 * dependencies (aws-cdk-lib never reaches a Lambda bundle, the AWS SDK never reaches synth).
 */

/** Environment variables the JobQueue construct sets on every consumer Lambda. */
export const CONSUMER_ENV = {
  /** Name of the DynamoDB job ledger table. */
  ledgerTable: 'JOBS_LEDGER_TABLE',
  /** Lane this consumer serves (e.g. `high`). */
  lane: 'JOBS_LANE',
  /** URL of the lane's queue (for ChangeMessageVisibility heartbeats and backoff). */
  queueUrl: 'JOBS_QUEUE_URL',
  /** URL of the lane's dead-letter queue (permanent failures are sent there directly). */
  dlqUrl: 'JOBS_DLQ_URL',
  /** The lane's max attempts: handler runs counted by the ledger, not SQS receives. */
  maxAttempts: 'JOBS_MAX_ATTEMPTS',
  /**
   * The lane queue's redrive `maxReceiveCount`: a backstop with headroom over maxAttempts for
   * deferrals that are not the job's fault. On the last receive it allows, the consumer
   * dead-letters the message itself (ledger DEAD with the reason) rather than leave it to SQS.
   */
  maxReceiveCount: 'JOBS_MAX_RECEIVE_COUNT',
  /** The lane queue's visibility timeout in seconds. */
  visibilityTimeoutSeconds: 'JOBS_VISIBILITY_TIMEOUT_SECONDS',
  /** Default backoff base delay in seconds (a job definition may override it). */
  backoffBaseSeconds: 'JOBS_BACKOFF_BASE_SECONDS',
  /** Default backoff cap in seconds, at most 43200 (12 h, the SQS visibility limit). */
  backoffCapSeconds: 'JOBS_BACKOFF_CAP_SECONDS',
  /** How long ledger items live after their last write, in seconds (sets the TTL attribute). */
  ledgerTtlSeconds: 'JOBS_LEDGER_TTL_SECONDS',
  /** How many messages of one batch run at once. */
  batchParallelism: 'JOBS_BATCH_PARALLELISM',
  /** `true` when the lane is a FIFO queue. */
  fifo: 'JOBS_FIFO',
  /** `1` when the ledger has the search index (SEARCH_INDEX): status writes then set its keys. */
  searchIndex: 'JOBS_SEARCH_INDEX',
  /** Bucket for results over LEDGER_LIMITS.resultBytes (absent: such results are replaced by a note). */
  resultsBucket: 'JOBS_RESULTS_BUCKET',
  /** Event bus name for lifecycle events (absent: no events are sent). */
  eventBus: 'JOBS_EVENT_BUS',
} as const;

/** Environment variables `JobQueue.configureProducer(fn)` sets on a producer Lambda. */
export const PRODUCER_ENV = {
  /** The JobQueue config JSON (the same as the stack output), read by `JobClient.fromEnvironment()`. */
  config: 'SQS_JOBS_CONFIG',
} as const;

/** Job statuses in the ledger. */
export const JOB_STATUSES = ['ENQUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'DEAD', 'CANCELLED'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Attribute names of a ledger item. The partition key is `jobId`; `expiresAt` is the TTL attribute. */
export const LEDGER_ATTR = {
  jobId: 'jobId',
  type: 'type',
  lane: 'lane',
  status: 'status',
  attempts: 'attempts',
  leaseUntil: 'leaseUntil',
  leaseOwner: 'leaseOwner',
  enqueuedAt: 'enqueuedAt',
  startedAt: 'startedAt',
  finishedAt: 'finishedAt',
  updatedAt: 'updatedAt',
  lastError: 'lastError',
  result: 'result',
  progress: 'progress',
  expiresAt: 'expiresAt',
  /** Keyed jobs: hash of the payload the key was first enqueued with (S, hex). */
  payloadHash: 'payloadHash',
  /** Keyed jobs: epoch seconds until which the key names this job (its retention window). */
  keyUntil: 'keyUntil',
  /**
   * Keyed jobs, ENQUEUED only: epoch ms after which the item counts as never sent (the producer
   * died between the ledger write and the send) and the same key may send the job again.
   */
  resendAfter: 'resendAfter',
  /**
   * Optimistic and `none` outcomes: a random id each outcome write sets and requires to differ, so
   * an SDK retry of an applied write fails its condition (instead of counting the attempt twice)
   * and is recognised as its own write. Internal: not part of JobRecord.
   */
  outcomeWriteId: 'outcomeWriteId',
  /**
   * A running job was asked to stop (ISO-8601 S): its consumer aborts the handler's signal at its
   * next heartbeat and records CANCELLED. Queued jobs go straight to CANCELLED instead.
   */
  cancelRequestedAt: 'cancelRequestedAt',
  /** The job's tenant (S), as enqueued: per-tenant fairness, logs and metrics. */
  tenant: 'tenant',
  /**
   * Debounced jobs (`keep: 'last'`): the number of enqueues folded into this window's job so far
   * (N). Each enqueue's message carries its number; only the latest runs, the others are dropped.
   */
  debounceSeq: 'debounceSeq',
  /** Debounced jobs: numbers whose message could not be sent (NS), so an earlier one runs instead. */
  debounceFailed: 'debounceFailed',
  /**
   * The last status transitions (L of S, oldest first), each `<status letter><attempt>@<epoch ms>`
   * (see ledger/history.ts), at most LEDGER_LIMITS.historyEntries of them.
   */
  history: 'history',
  /** Search index partition key (S): `<STATUS>#<shard>`, written only when the index is on. */
  statusKey: 'statusKey',
  /** Search index sort key (S): ISO-8601 time of the last status change. */
  statusAt: 'statusAt',
  /** Group members: the id of the group (S) the job belongs to. */
  group: 'group',
  /** A result stored in S3 because it was over LEDGER_LIMITS.resultBytes: its object key (S). */
  resultRef: 'resultRef',
} as const;

/**
 * Ledger items that are not jobs (rate-limit buckets, concurrency leases) have partition keys that
 * start with this, which no job id can (ids are UUIDs, `k-<hash>` or `cron:<schedule>:<time>`).
 */
export const LIMIT_ITEM_PREFIX = '~';

/** Version of the message envelope this runtime writes and accepts. */
export const ENVELOPE_VERSION = 1;

/**
 * What travels in an SQS message body. Scheduler targets build the same shape, with
 * `id` = `cron:<schedule name>:<aws.scheduler.scheduled-time>` so a retried firing dedupes.
 */
export interface JobEnvelope<P = unknown> {
  /** Envelope version; the consumer dead-letters versions it does not know. */
  readonly v: number;
  /** Job id: the ledger partition key. Deterministic when an idempotency key is given. */
  readonly id: string;
  /** Job type, the key in the job registry. */
  readonly type: string;
  readonly payload: P;
  /** The idempotency key the id was derived from, if any. */
  readonly key?: string;
  /** ISO-8601 time the job was enqueued (or the schedule's scheduled time). */
  readonly enqueuedAt: string;
  /** Correlation id carried into logs. */
  readonly correlationId?: string;
  /** The job's tenant (fairness, logs, per-tenant metrics); also its MessageGroupId on standard lanes. */
  readonly tenant?: string;
  /** Debounced jobs (`keep: 'last'`): this enqueue's number within the window (see LEDGER_ATTR.debounceSeq). */
  readonly debounce?: { readonly seq: number };
  /**
   * Only on a completion record, which a consumer sends to its own lane when it could not write a
   * finished run's SUCCEEDED status (after retries): the next consumer writes that status instead
   * of running the job again.
   */
  readonly completion?: JobCompletion;
  /**
   * Members of a group (`enqueueGroup`): the group, the member's position in it, and the counter
   * shard it counts in.
   */
  readonly group?: { readonly id: string; readonly shard: number; readonly index: number };
  /** Steps of a chain (`enqueueChain`): what runs after this job succeeds. */
  readonly chain?: ChainLink;
}

/** A job of a chain, as its message carries it. */
export interface ChainLink {
  /** The chain's id (its ledger item is `~chain:<id>`). */
  readonly id: string;
  /** This job's position in the chain, from 0. */
  readonly index: number;
  /** The steps after this one, in order. */
  readonly next: readonly ChainStep[];
  /** The result of the step before, passed along (absent for the first step). */
  readonly input?: unknown;
}

/** One step of a chain: a job to enqueue once the step before it succeeded. */
export interface ChainStep {
  readonly type: string;
  readonly payload: unknown;
  readonly lane: string;
  /** The lane's queue (the producer resolves it, so the consumer can send to any lane). */
  readonly queueUrl: string;
  readonly fifo: boolean;
  readonly tenant?: string;
}

/** A callback job of a group, sent once every member finished. */
export interface GroupCallback {
  readonly type: string;
  /** Merged with the group's summary into the callback's payload (see GroupSummary). */
  readonly payload?: Record<string, unknown>;
  readonly lane?: string;
}

/** What a group's callback receives in its payload, under `group`. */
export interface GroupSummary {
  readonly groupId: string;
  readonly total: number;
  readonly succeeded: number;
  readonly dead: number;
  readonly cancelled: number;
  /** Ids of members that ended DEAD or CANCELLED (at most GROUP_LIMITS.failedIdsInCallback). */
  readonly failedJobIds: readonly string[];
}

/** A finished run whose ledger write is still owed (see `JobEnvelope.completion`). */
export interface JobCompletion {
  /** The run's lease owner (strict mode): only it may complete the job. */
  readonly owner?: string;
  readonly result?: unknown;
  /** The result was stored in S3 (RESULT_OBJECTS) under this key: the write records it instead of `result`. */
  readonly resultRef?: string;
  readonly startedAt?: string;
}

/** Message attributes the consumer sets on a message it dead-letters itself. */
export const DLQ_ATTR = {
  error: 'jobs.error',
  errorType: 'jobs.errorType',
  failedAt: 'jobs.failedAt',
  attempts: 'jobs.attempts',
  firstFailedAt: 'jobs.firstFailedAt',
} as const;

/**
 * The description every JobQueue config output carries; the CLI and `JobClient.fromStack` find
 * the output by it.
 */
export const CONFIG_OUTPUT_DESCRIPTION = 'sqs-jobs:config';

/** One lane as published in the stack output. */
export interface LaneConfig {
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly dlqUrl: string;
  readonly dlqArn: string;
  readonly fifo: boolean;
  readonly maxAttempts: number;
  /** The queue's redrive maxReceiveCount (a backstop above maxAttempts); absent in older outputs. */
  readonly maxReceiveCount?: number;
  /** The lane's consumer function name. */
  readonly functionName: string;
}

/** The JSON the JobQueue construct publishes as a stack output: everything a client needs. */
export interface JobQueueConfig {
  readonly version: 1;
  readonly tableName: string;
  readonly defaultLane: string;
  readonly lanes: Record<string, LaneConfig>;
  readonly scheduleGroup: string;
  /** Role EventBridge Scheduler assumes to send to the lanes (pass it to CreateSchedule). */
  readonly schedulerRoleArn: string;
  /** Queue that receives scheduler deliveries that failed after their retries. */
  readonly scheduleDlqArn: string;
  readonly alarmTopicArn: string;
  /** Ledger item TTL in seconds, the default idempotency-key retention; absent in older outputs. */
  readonly ledgerTtlSeconds?: number;
  /** Name of the ledger's search index (SEARCH_INDEX.name) when the queue has it. */
  readonly searchIndex?: string;
  /** Bucket holding results over the ledger's inline limit, when the queue has one. */
  readonly resultsBucket?: string;
  /** Event bus receiving lifecycle events, when they are on. */
  readonly eventBusName?: string;
}

/**
 * A decoded ledger item (what `JobClient.getJob` returns and the CLI can print).
 * Stored formats: `status`, `type`, `lane`, `leaseOwner`, `lastError` as S; the `*At` timestamps as
 * ISO-8601 S, except `leaseUntil` (N, epoch milliseconds, compared in conditions) and `expiresAt`
 * (N, epoch seconds, the TTL attribute); `attempts` N; `result` S holding JSON (at most
 * LEDGER_LIMITS.resultBytes, else a JSON note `{"omitted":...}`); `progress` N, or S holding JSON.
 */
export interface JobRecord {
  readonly jobId: string;
  readonly type?: string;
  readonly lane?: string;
  readonly status?: JobStatus;
  /** Handler runs started (claims), not SQS receives. */
  readonly attempts: number;
  readonly enqueuedAt?: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly updatedAt?: string;
  /** Epoch ms until which the current RUNNING lease is live. */
  readonly leaseUntil?: number;
  readonly leaseOwner?: string;
  readonly lastError?: string;
  readonly result?: unknown;
  readonly progress?: number | Record<string, unknown>;
  /** TTL, epoch seconds. */
  readonly expiresAt?: number;
  /** Keyed jobs: hash of the payload the key was enqueued with. */
  readonly payloadHash?: string;
  /** Keyed jobs: epoch seconds until which the key names this job. */
  readonly keyUntil?: number;
  /** Set when a running job was asked to stop (`cancel`); the run ends CANCELLED at its next heartbeat. */
  readonly cancelRequestedAt?: string;
  /** The job's tenant, when it has one. */
  readonly tenant?: string;
  /**
   * Debounced jobs (`keep: 'last'`): enqueues folded into this window's job (`seq`), and the
   * numbers whose message could not be sent (`failed`). The latest sent one is the one that runs.
   */
  readonly debounce?: { readonly seq: number; readonly failed: readonly number[] };
  /** The last status transitions, oldest first (at most LEDGER_LIMITS.historyEntries). */
  readonly history?: readonly JobHistoryEntry[];
  /** The group this job is a member of. */
  readonly group?: string;
  /** A result kept in S3 (over LEDGER_LIMITS.resultBytes): its object key. `getJob` reads it into `result`. */
  readonly resultRef?: string;
}

/** One status transition of a job. */
export interface JobHistoryEntry {
  readonly status: JobStatus;
  /** ISO-8601 time of the transition. */
  readonly at: string;
  /** The attempt it belongs to (runs started so far), when known. */
  readonly attempt?: number;
}

/** Size bounds that keep ledger items under 1 KB (one write unit). */
export const LEDGER_LIMITS = {
  /** `lastError` is truncated to this many characters. */
  lastErrorChars: 300,
  /** Results whose JSON is larger are not stored; a note is stored instead. */
  resultBytes: 400,
  /** Object progress values whose JSON is larger are replaced by a note. */
  progressBytes: 200,
  /** Status transitions kept in `history`; older ones are dropped (about 20 bytes each). */
  historyEntries: 8,
} as const;

/**
 * The ledger's search index (opt-in, `JobQueueProps.jobSearch`): a global secondary index keyed by
 * status and shard, sorted by the time of the status change. Sharding spreads one status's writes
 * over `shards` partitions; a listing queries each shard and merges them by time.
 */
export const SEARCH_INDEX = {
  name: 'byStatus',
  shards: 8,
  partitionKey: LEDGER_ATTR.statusKey,
  sortKey: LEDGER_ATTR.statusAt,
  /**
   * Attributes copied into the index (a listing shows them without reading the table). Only ones
   * that change with the status: a write that changes a projected attribute also writes the index,
   * so `updatedAt` (every heartbeat and progress write) stays out.
   */
  projected: [
    LEDGER_ATTR.type,
    LEDGER_ATTR.lane,
    LEDGER_ATTR.status,
    LEDGER_ATTR.attempts,
    LEDGER_ATTR.enqueuedAt,
    LEDGER_ATTR.finishedAt,
    LEDGER_ATTR.tenant,
    LEDGER_ATTR.group,
  ],
} as const;

/**
 * Groups (`enqueueGroup`): a group item `~group:<id>` holds the definition and the callbacks;
 * members are counted in shard items `~group:<id>#<n>` (sets of the members that finished, so
 * counting is idempotent), so 100,000 members finishing at once do not all write one item.
 */
export const GROUP_LIMITS = {
  /** Members per group. */
  maxMembers: 100_000,
  /** Members per counter shard (the shard count is ceil(members / this), at most maxShards). */
  membersPerShard: 100,
  maxShards: 1000,
  /** Failed member ids carried in the callback's payload. */
  failedIdsInCallback: 100,
} as const;

/** Partition key prefixes of the ledger's non-job items (they all start with LIMIT_ITEM_PREFIX). */
export const GROUP_ITEM_PREFIX = '~group:';
export const CHAIN_ITEM_PREFIX = '~chain:';

/**
 * CloudWatch metrics the consumer emits (EMF via Powertools). Every metric carries exactly the
 * dimensions {JobType, Lane} (the Powertools `service` default dimension is cleared), so alarms
 * and dashboards can address them. Malformed / unknown-type messages use JobType `(unknown)`.
 */
export const JOB_METRICS = {
  /** Used when POWERTOOLS_METRICS_NAMESPACE is not set. */
  defaultNamespace: 'SqsJobs',
  /** `tenant` is added only for job types that opt in (`tenantMetrics: true`): {JobType, Lane, Tenant}. */
  dimensions: { jobType: 'JobType', lane: 'Lane', tenant: 'Tenant' },
  names: {
    succeeded: 'JobSucceeded',
    /** Every attempt that ended in failure (retryable or permanent, bad input included). */
    failed: 'JobFailed',
    /** Failures that will be retried after a backoff. */
    retried: 'JobRetried',
    /** Jobs that went DEAD: sent to the DLQ by the consumer, or left for SQS redrive on the last attempt. */
    deadLettered: 'JobDeadLettered',
    /** Deliveries of already-SUCCEEDED jobs acknowledged without running. */
    duplicateSkipped: 'JobDuplicateSkipped',
    /** Handler duration, milliseconds. */
    duration: 'JobDuration',
    /** Jobs that ended CANCELLED (a delivery of a cancelled job, or a run stopped by `cancel`). */
    cancelled: 'JobCancelled',
    /** Deliveries deferred by a rate limit or concurrency limit (no attempt used). */
    limited: 'JobLimited',
  },
} as const;

/**
 * Results over LEDGER_LIMITS.resultBytes, stored in the queue's results bucket (when it has one)
 * as `<prefix><jobId>/<random>.json`; the ledger item keeps the key (LEDGER_ATTR.resultRef).
 */
export const RESULT_OBJECTS = {
  /** Key prefix of every result object: the consumer may only write, and readers only read, under it. */
  prefix: 'results/',
  /** Larger results are not stored at all: the ledger gets a `{"omitted": ...}` note instead. */
  maxBytes: 5 * 1024 * 1024,
} as const;

/**
 * Lifecycle events (opt-in, `JobQueueProps.lifecycleEvents`): the consumer sends one EventBridge
 * event per job that ended SUCCEEDED (its handler ran), DEAD or CANCELLED, after each batch.
 */
export const LIFECYCLE_EVENTS = {
  /** The events' `source`. */
  source: 'sqs-jobs',
  /** The events' `detail-type` by final status. */
  detailTypes: {
    SUCCEEDED: 'Job Succeeded',
    DEAD: 'Job Dead-Lettered',
    CANCELLED: 'Job Cancelled',
  },
  /** Entries per PutEvents call (the EventBridge maximum). */
  maxEntriesPerCall: 10,
} as const;

/** The `detail` of a lifecycle event. */
export interface LifecycleEventDetail {
  /** The job's id (the ledger key, what `getJob` takes). */
  readonly jobId: string;
  /** The job type (`(unknown)` for a message that named none). */
  readonly type: string;
  /** The lane whose consumer recorded the outcome. */
  readonly lane: string;
  /** The job's final status: SUCCEEDED, DEAD or CANCELLED. */
  readonly status: keyof typeof LIFECYCLE_EVENTS.detailTypes;
  /** Handler runs counted so far (DEAD, CANCELLED), or this run's attempt (SUCCEEDED). */
  readonly attempt: number;
  /** The job's tenant, when it has one. */
  readonly tenant?: string;
  /** The group the job is a member of. */
  readonly group?: string;
  /** Why the job went DEAD (or the error a cancelled run ended with). */
  readonly error?: { readonly type: string; readonly message: string };
  /** How long the handler ran, when it ran in this delivery. */
  readonly durationMs?: number;
  /** ISO-8601 time the consumer recorded the outcome. */
  readonly at: string;
}
