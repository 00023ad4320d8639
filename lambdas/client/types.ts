/** Producer-side types. */
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { JobRegistry } from '../registry/types';
import type { JobRecord, JobStatus } from '../shared/contract';
import { DEFAULTS } from '../shared/defaults';

/** SQS's hard limit for one message (body + attributes). */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;
/** Default limit: 256 KiB, the classic SQS limit that LocalStack and older tooling still enforce. */
export const DEFAULT_MAX_MESSAGE_BYTES = 262_144;
/** DelaySeconds above this go through EventBridge Scheduler. */
export const MAX_SQS_DELAY_SECONDS = 900;
/** EventBridge Scheduler's limit for a target's input: the body of a job delayed past 900 s. */
export const SCHEDULER_MAX_INPUT_BYTES = 8192;
/** The JobQueue construct's default `ledgerTtl` (30 days), used when the config does not say. */
export const DEFAULT_LEDGER_TTL_SECONDS = DEFAULTS.ledgerTtlSeconds;
/** How long after its due time a keyed job still ENQUEUED counts as never sent. */
export const DEFAULT_RESEND_UNSENT_AFTER_SECONDS = 900;

export interface JobClientOptions<R extends JobRegistry = JobRegistry> {
  /**
   * The registry: enables payload validation, typed `enqueue` and per-job lanes / keys.
   * @default - untyped: any type string, no validation, lane from options or the default lane
   */
  readonly registry?: R;
  /**
   * Clients passed in are used as given; the SQS and DynamoDB clients the JobClient makes resolve
   * each command's middleware stack once (`cacheMiddleware: true`, less CPU per call).
   * @default - new SQSClient({ cacheMiddleware: true }) (region, credentials and AWS_ENDPOINT_URL from the environment)
   */
  readonly sqs?: SQSClient;
  /**
   * Reads results the consumer stored in S3 (over the ledger's inline limit), in `getJob` and
   * `waitFor`. Made on first use.
   * @default - new S3Client (`cacheMiddleware`; path-style addressing when AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL is set)
   */
  readonly s3?: S3Client;
  /** @default - new DynamoDBClient({ cacheMiddleware: true }) */
  readonly dynamodb?: DynamoDBClient;
  /** @default - new SchedulerClient({}) */
  readonly scheduler?: SchedulerClient;
  /**
   * Largest message (body + attributes) `enqueue` sends, bytes; at most 1,048,576.
   * @default 262144
   */
  readonly maxMessageBytes?: number;
  /**
   * Per-lane backlog limits (approximate visible messages); enqueue fails with BacklogLimitError above.
   * @default - no limits
   */
  readonly backlogLimits?: Readonly<Record<string, number>>;
  /**
   * TTL of the ENQUEUED ledger item a keyed job creates, seconds, and the default retention of
   * idempotency keys (the consumer's writes then use the lane's JOBS_LEDGER_TTL_SECONDS).
   * @default - the config's `ledgerTtlSeconds` (the JobQueue's `ledgerTtl`), else 2592000 (30 days)
   */
  readonly ledgerTtlSeconds?: number;
  /**
   * A keyed job still ENQUEUED this long after its due time (enqueue time plus delay) counts as
   * never sent — its producer died between the ledger write and the send — and enqueueing the same
   * key sends it again. Safe: the consumer's claim deduplicates by job id. 60 to 315360000.
   * @default 900
   */
  readonly resendUnsentAfterSeconds?: number;
  /** How long a lane depth reading is reused, ms. @default 5000 */
  readonly backlogCacheMs?: number;
  /** Retries of throttled / failed SendMessageBatch entries. @default 3 */
  readonly batchRetries?: number;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default - setTimeout-based */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface FromStackOptions<R extends JobRegistry = JobRegistry> extends JobClientOptions<R> {
  /** @default - new CloudFormationClient({}) */
  readonly cloudformation?: CloudFormationClient;
}

export interface EnqueueOptions {
  /** @default - the job's lane, else the config's default lane */
  readonly lane?: string;
  /**
   * Names one business operation: same key (per type) = same job id. Within the key's retention
   * window (the job's `keyRetentionSeconds`, default the ledger TTL) enqueueing it again returns
   * the existing job whatever its state (`duplicate`), and a different payload under the same key
   * throws IdempotencyKeyConflictError. Costs one conditional ledger write.
   * 1-512 characters, not only whitespace (the job's derived key too).
   * @default - the job's `idempotencyKey(payload)`, else none
   */
  readonly idempotencyKey?: string;
  /**
   * Keyed jobs: if the job the key names has finished (SUCCEEDED or DEAD), start a new run of it
   * under the same id. An unfinished job is still returned as `duplicate`. The explicit way to
   * re-run a finished keyed job (DEAD ones can also be retried from the DLQ).
   * @default false
   */
  readonly rerun?: boolean;
  /**
   * Delay in whole seconds, 0 to 31536000 (365 days); above 900 (or on FIFO lanes) a one-time
   * schedule is used. Not together with `runAt`.
   * @default 0
   */
  readonly delaySeconds?: number;
  /**
   * Run at (or soon after, 60 s scheduler precision) this time: a valid Date at most 365 days
   * ahead; a past time runs the job now. Not together with `delaySeconds`.
   * @default - now, or after `delaySeconds`
   */
  readonly runAt?: Date;
  /**
   * The message group on a FIFO lane (ordering): 1-128 letters, digits and ASCII punctuation
   * (SQS's MessageGroupId rule). Required on FIFO lanes unless the job has a tenant; ignored on
   * standard lanes, where the tenant is the group.
   * @default - the tenant on a FIFO lane; none elsewhere
   */
  readonly groupId?: string;
  /**
   * The job's tenant, same rule as `groupId`. On a standard lane it is sent as the message's
   * MessageGroupId, which turns on SQS fair queues: a tenant with a large backlog no longer delays
   * the others. On a FIFO lane it is the group (ordering per tenant) unless `groupId` is given.
   * Carried in every log line of the job and, for job types with `tenantMetrics`, in its metrics.
   * @default - the job's `tenant(payload)`, else none
   */
  readonly tenant?: string;
  /**
   * Carried into every log line of the job; a non-empty string of at most 256 characters.
   * @default - none
   */
  readonly correlationId?: string;
}

/**
 * `debounced`: folded into the job of a debounce window (its `jobId` is the window's job; with
 * `keep: 'last'` a later enqueue of the window may replace this payload).
 */
export type EnqueueStatus = 'enqueued' | 'scheduled' | 'duplicate' | 'debounced';

export interface EnqueueResult {
  readonly jobId: string;
  readonly type: string;
  readonly lane: string;
  readonly status: EnqueueStatus;
  /** SQS message id (status `enqueued`). */
  readonly messageId?: string;
  /** Scheduler schedule name (status `scheduled`). */
  readonly scheduleName?: string;
  /** The job this key already names, in whatever state (status `duplicate`): status, result, attempts. */
  readonly existing?: JobRecord;
  /** Debounced job types: when the window ends (ISO-8601); with `keep: 'last'` the job runs then. */
  readonly windowEndsAt?: string;
}

/** What `JobClient.cancel` did. */
export interface CancelResult {
  readonly jobId: string;
  /**
   * - `cancelled`: it was queued, delayed, waiting for a retry, or not in the ledger yet; it is now
   *   CANCELLED and will not run (a delivery of it is acknowledged unrun).
   * - `cancelling`: it is RUNNING; its consumer aborts the handler's signal within one heartbeat
   *   (the job's `heartbeatSeconds`) and records CANCELLED, unless the handler finishes first.
   * - `already-finished`: it had SUCCEEDED, was DEAD or was CANCELLED already; nothing changed.
   */
  readonly outcome: 'cancelled' | 'cancelling' | 'already-finished';
  /** The ledger status now. */
  readonly status: JobStatus;
  /** The ledger status before (absent when the job had no ledger item yet). */
  readonly previousStatus?: JobStatus;
  /** True when a one-time schedule waiting to deliver the job was deleted. */
  readonly scheduleDeleted: boolean;
  /** One sentence for people: what happened and what happens next. */
  readonly message: string;
}

/** Which job `cancel` stops: its id, or the job type and idempotency key that name it. */
export type CancelTarget = string | { readonly type: string; readonly key: string };

export type BatchEnqueueResult =
  | (EnqueueResult & { readonly index: number; readonly ok: true })
  | {
      readonly index: number;
      readonly ok: false;
      readonly type: string;
      readonly jobId?: string;
      readonly error: Error;
    };

export interface BatchItem<T extends string = string, P = unknown> {
  readonly type: T;
  readonly payload: P;
  readonly options?: EnqueueOptions;
}

/** Filters of `listJobs` (the ledger's search index; the queue needs `jobSearch: true`). */
export interface ListJobsOptions {
  /** One status or several. @default - every status */
  readonly status?: JobStatus | readonly JobStatus[];
  /** Only jobs of this type. */
  readonly type?: string;
  /** Only jobs on this lane. */
  readonly lane?: string;
  /** Only jobs whose status changed at or after this time. */
  readonly since?: Date;
  /** Only jobs whose status changed before this time. @default - now */
  readonly until?: Date;
  /** Jobs per page, 1 to 1000. @default 50 */
  readonly limit?: number;
  /** The `cursor` of the previous page. */
  readonly cursor?: string;
}

/** A job as the search index knows it (newest status change first). */
export interface JobSummary {
  readonly jobId: string;
  readonly status: JobStatus;
  /** ISO-8601 time the job entered this status. */
  readonly statusAt: string;
  readonly type?: string;
  readonly lane?: string;
  readonly attempts: number;
  readonly enqueuedAt?: string;
  readonly finishedAt?: string;
  readonly tenant?: string;
  readonly group?: string;
}

export interface ListJobsPage {
  readonly jobs: readonly JobSummary[];
  /** Pass as `cursor` for the next page; absent on the last page. */
  readonly cursor?: string;
}

/** A group's state (`getGroup`). */
export interface JobGroupStatus {
  readonly groupId: string;
  readonly total: number;
  /** Members not finished yet (total − succeeded − dead − cancelled). */
  readonly pending: number;
  readonly succeeded: number;
  readonly dead: number;
  readonly cancelled: number;
  /** `COMPLETE` once every member finished and the callbacks were sent. */
  readonly state: 'RUNNING' | 'COMPLETE';
  readonly createdAt: string;
  readonly completedAt?: string;
  /** Job ids of the callbacks (deterministic: derived from the group id). */
  readonly callbacks: { readonly onComplete?: string; readonly onSuccess?: string };
  /** Members that ended DEAD or CANCELLED (at most GROUP_LIMITS.failedIdsInCallback, when complete). */
  readonly failedJobIds?: readonly string[];
}

/** `waitFor` options. */
export interface WaitForOptions {
  /** Give up after this long (a WaitTimeoutError). @default 60000 */
  readonly timeoutMs?: number;
  /** First poll interval; it grows ×1.5 per poll up to `maxIntervalMs`. @default 200 */
  readonly initialIntervalMs?: number;
  /** @default 5000 */
  readonly maxIntervalMs?: number;
  /** Stops waiting (rejects with the signal's reason). */
  readonly signal?: AbortSignal;
}

/** A callback of a group: a job enqueued once every member finished, with the group's summary. */
export interface GroupCallbackOptions {
  readonly type: string;
  /**
   * Payload fields; the callback's payload is these plus `group` (a GroupSummary: counts and the
   * failed ids), so its schema should accept `group` (see `groupSummarySchema`).
   */
  readonly payload?: Record<string, unknown>;
  /** @default - the callback type's lane, else the default lane */
  readonly lane?: string;
}

export interface EnqueueGroupOptions {
  /**
   * The group's id: 1-100 characters [A-Za-z0-9._:-]. Calling `enqueueGroup` again with the same id
   * and members sends only the members not sent yet (after a failure), never a member twice.
   * @default - a random UUID
   */
  readonly groupId?: string;
  /** Enqueued once when every member finished (SUCCEEDED, DEAD or CANCELLED). */
  readonly onComplete?: GroupCallbackOptions;
  /** Enqueued once when every member finished and all SUCCEEDED. */
  readonly onSuccess?: GroupCallbackOptions;
}

export interface EnqueueGroupResult {
  readonly groupId: string;
  /** Member job ids, in the order given (deterministic: derived from the group id and position). */
  readonly jobIds: readonly string[];
  /** `created`, or `exists` when this call repeated an earlier one (members already sent were not sent again). */
  readonly status: 'created' | 'exists';
  /** The callbacks' job ids (deterministic). */
  readonly callbacks: { readonly onComplete?: string; readonly onSuccess?: string };
}

/** One step of `enqueueChain`. */
export interface ChainStepInput<T extends string = string, P = unknown> {
  readonly type: T;
  readonly payload: P;
  /** Only `lane`, `tenant` and `correlationId` apply to chain steps. */
  readonly options?: Pick<EnqueueOptions, 'lane' | 'tenant' | 'correlationId'>;
}

export interface EnqueueChainOptions {
  /**
   * The chain's id: 1-100 characters [A-Za-z0-9._:-]; calling again with the same id enqueues nothing new.
   * @default - a random UUID
   */
  readonly chainId?: string;
}

export interface EnqueueChainResult {
  readonly chainId: string;
  /** Step job ids, in order (deterministic: derived from the chain id and position). */
  readonly jobIds: readonly string[];
  readonly status: 'created' | 'exists';
}

/** A chain's state (`getChain`). */
export interface JobChainStatus {
  readonly chainId: string;
  /** RUNNING, SUCCEEDED (every step did), or FAILED (a step ended DEAD or CANCELLED: the chain stopped). */
  readonly state: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  readonly total: number;
  /** The step running or next to run (from 0); `total` once the chain succeeded. */
  readonly current: number;
  readonly createdAt?: string;
  readonly finishedAt?: string;
  readonly steps: readonly {
    readonly index: number;
    readonly type: string;
    readonly lane: string;
    readonly jobId: string;
    /** The step job's status (absent until it is enqueued). */
    readonly status?: JobStatus;
  }[];
  /** The step that stopped the chain. */
  readonly failed?: {
    readonly index: number;
    readonly jobId: string;
    readonly status: string;
    readonly error?: string;
  };
}
