/**
 * JobClient: the typed producer. Validates, sizes and routes a job, then sends it to its lane
 * (SQS, DelaySeconds ≤ 900 s) or a one-time self-deleting EventBridge Scheduler schedule.
 *
 * Cost: an unkeyed job costs no ledger write at enqueue (the consumer's claim creates the item);
 * a keyed job costs one conditional PutItem (that is how "same key → same job" is enforced).
 */
import { createHash } from 'node:crypto';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { ChainStore, chainStepKey } from '../ledger/chain-store';
import { type CallbackTarget, callbackJobId, GroupStore } from '../ledger/group-store';
import { memberShard, shardCount } from '../ledger/groups';
import { type CancelOutcome, type KeyedEnqueueOutcome, Ledger } from '../ledger/ledger';
import { parsePayload } from '../registry/define-job';
import type { AnyJob, JobRegistry, JobTypeOf, PayloadInputOf } from '../registry/types';
import {
  intRangeText,
  isIntInRange,
  isUserKey,
  isWorkflowId,
  USER_KEY_RULE,
  WORKFLOW_ID_RULE,
} from '../shared/checks';
import {
  type ChainLink,
  type ChainStep,
  GROUP_LIMITS,
  type JobEnvelope,
  type JobQueueConfig,
  type JobRecord,
  type LaneConfig,
  LIMIT_ITEM_PREFIX,
  PRODUCER_ENV,
} from '../shared/contract';
import { createEnvelope, jobIdForKey, MAX_JOB_ID_LENGTH, newJobId } from '../shared/envelope';
import {
  ConfigError,
  describeError,
  EnqueueError,
  IdempotencyKeyConflictError,
  PayloadTooLargeError,
  PayloadValidationError,
  UnknownJobTypeError,
  UnknownLaneError,
} from '../shared/errors';
import { payloadHash } from '../shared/payload-hash';
import { createS3Client } from '../shared/s3-client';
import { SDK_CLIENT_DEFAULTS } from '../shared/sdk-clients';
import { BacklogGuard } from './backlog';
import { parseJobQueueConfig, readStackConfig } from './config';
import { ResultReader } from './results';
import { JobSearch } from './search';
import {
  type BatchEnqueueResult,
  type BatchItem,
  type CancelResult,
  type CancelTarget,
  type ChainStepInput,
  DEFAULT_LEDGER_TTL_SECONDS,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_RESEND_UNSENT_AFTER_SECONDS,
  type EnqueueChainOptions,
  type EnqueueChainResult,
  type EnqueueGroupOptions,
  type EnqueueGroupResult,
  type EnqueueOptions,
  type EnqueueResult,
  type FromStackOptions,
  type GroupCallbackOptions,
  type JobChainStatus,
  type JobClientOptions,
  type JobGroupStatus,
  type ListJobsOptions,
  type ListJobsPage,
  MAX_SQS_DELAY_SECONDS,
  SCHEDULER_MAX_INPUT_BYTES,
  SQS_MAX_MESSAGE_BYTES,
  type WaitForOptions,
} from './types';
import { validateEnqueueOptions } from './validate-options';
import { waitForJob } from './wait-for';

/** Job types a client accepts: the registry's, or any string without one. */
export type ClientJobType<R extends JobRegistry> = string extends JobTypeOf<R> ? string : JobTypeOf<R>;
/** The payload a client accepts for a job type: the schema's input, or anything without a registry. */
export type ClientPayload<R extends JobRegistry, T extends string> =
  string extends JobTypeOf<R> ? unknown : PayloadInputOf<R, T>;

interface Prepared {
  readonly type: string;
  readonly jobId: string;
  readonly key?: string;
  readonly lane: string;
  readonly laneConfig: LaneConfig;
  readonly body: string;
  readonly enqueuedAt: string;
  readonly delaySeconds: number;
  readonly runAt?: Date;
  readonly groupId?: string;
  readonly tenant?: string;
  /** The envelope the body holds (a debounced job's body is rebuilt with its number). */
  readonly envelope: JobEnvelope;
  /** Debounced job types. */
  readonly debounce?: {
    readonly keep: 'last' | 'first';
    /** Epoch ms the window ends. */
    readonly windowEndsAt: number;
    /** `keep: 'last'`: this enqueue's number in the window, once the ledger gave it. */
    readonly seq?: number;
  };
  /** Group members: the group, kept on the ledger item. */
  readonly memberOf?: string;
  /** Keyed jobs: what the ledger's keyed enqueue needs. */
  readonly keyed?: {
    readonly payloadHash: string;
    readonly checkPayload: boolean;
    readonly keyUntil: number;
    readonly resendAfter: number;
    readonly rerun: boolean;
  };
}

/**
 * What `admit` decided. Not admitted: `error` says why, nothing was written (`job` is there when
 * it was built, for its id). Admitted: `duplicate` when the key already names a job (nothing to
 * deliver), else the job is to be delivered, its key (if any) taken in the ledger.
 */
type Admission =
  | { readonly ok: false; readonly job?: Prepared; readonly error: unknown }
  | { readonly ok: true; readonly job: Prepared; readonly duplicate?: EnqueueResult };

export class JobClient<R extends JobRegistry = JobRegistry> {
  /** From the stack's config output JSON (or the parsed object). */
  static fromConfig<R extends JobRegistry = JobRegistry>(
    config: string | JobQueueConfig,
    options: JobClientOptions<R> = {},
  ): JobClient<R> {
    return new JobClient(parseJobQueueConfig(config), options);
  }

  /**
   * In a Lambda set up with `JobQueue.configureProducer(fn)`: the config from the SQS_JOBS_CONFIG
   * environment variable (PRODUCER_ENV.config), with no CloudFormation call at cold start.
   */
  static fromEnvironment<R extends JobRegistry = JobRegistry>(
    options: JobClientOptions<R> & { readonly env?: Readonly<Record<string, string | undefined>> } = {},
  ): JobClient<R> {
    const { env = process.env, ...clientOptions } = options;
    const raw = env[PRODUCER_ENV.config];
    if (raw === undefined || raw.trim() === '') {
      throw new ConfigError(
        `Environment variable ${PRODUCER_ENV.config}`,
        'set to the JobQueue config JSON (JobQueue.configureProducer(fn) sets it)',
        raw,
      );
    }
    return JobClient.fromConfig(raw, clientOptions);
  }

  /** Reads the stack's outputs and uses its JobQueue config (see readStackConfig). */
  static async fromStack<R extends JobRegistry = JobRegistry>(
    stackName: string,
    options: FromStackOptions<R> = {},
  ): Promise<JobClient<R>> {
    const cfn = options.cloudformation ?? new CloudFormationClient({});
    return JobClient.fromConfig(await readStackConfig(cfn, stackName), options);
  }

  readonly config: JobQueueConfig;
  private readonly registry?: R;
  private readonly sqs: SQSClient;
  private readonly scheduler: SchedulerClient;
  private readonly ledger: Ledger;
  private readonly search: JobSearch;
  private readonly ledgerTtlSeconds: number;
  private readonly resendUnsentAfterSeconds: number;
  /**
   * Keyed items this client wrote but could neither send nor remove (job id → their `enqueuedAt`):
   * nothing else holds their job, so this client's own next enqueue of the key takes them over
   * instead of answering `duplicate`. Bounded; another process still waits for the resend rule.
   */
  private readonly unsentKeys = new Map<string, string>();
  private readonly backlog: BacklogGuard;
  private readonly maxMessageBytes: number;
  private readonly batchRetries: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly groups: GroupStore;
  private readonly chains: ChainStore;
  private readonly results: ResultReader;

  constructor(config: JobQueueConfig, options: JobClientOptions<R> = {}) {
    this.config = config;
    this.registry = options.registry;
    this.sqs = options.sqs ?? new SQSClient({ ...SDK_CLIENT_DEFAULTS });
    this.scheduler = options.scheduler ?? new SchedulerClient({});
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.ledgerTtlSeconds = intOption(
      'ledgerTtlSeconds',
      options.ledgerTtlSeconds ?? config.ledgerTtlSeconds ?? DEFAULT_LEDGER_TTL_SECONDS,
      60,
      TEN_YEARS_SECONDS,
    );
    this.resendUnsentAfterSeconds = intOption(
      'resendUnsentAfterSeconds',
      options.resendUnsentAfterSeconds ?? DEFAULT_RESEND_UNSENT_AFTER_SECONDS,
      60,
      TEN_YEARS_SECONDS,
    );
    this.maxMessageBytes = intOption(
      'maxMessageBytes',
      options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      1,
      SQS_MAX_MESSAGE_BYTES,
    );
    this.batchRetries = intOption('batchRetries', options.batchRetries ?? 3, 0, 10);
    const backlogCacheMs = intOption('backlogCacheMs', options.backlogCacheMs ?? 5000, 0, 3_600_000);
    const dynamodb = options.dynamodb ?? new DynamoDBClient({ ...SDK_CLIENT_DEFAULTS });
    this.search = new JobSearch({
      client: dynamodb,
      tableName: config.tableName,
      indexName: config.searchIndex,
      now: this.now,
    });
    this.ledger = new Ledger({
      client: dynamodb,
      tableName: config.tableName,
      ttlSeconds: this.ledgerTtlSeconds,
      now: this.now,
      searchIndex: config.searchIndex !== undefined,
    });
    const stores = {
      client: dynamodb,
      tableName: config.tableName,
      ledger: this.ledger,
      ttlSeconds: this.ledgerTtlSeconds,
      now: this.now,
      send: async (input: {
        queueUrl: string;
        body: string;
        messageGroupId?: string;
        deduplicationId?: string;
      }) => {
        await this.sqs.send(
          new SendMessageCommand({
            QueueUrl: input.queueUrl,
            MessageBody: input.body,
            ...(input.messageGroupId === undefined ? {} : { MessageGroupId: input.messageGroupId }),
            ...(input.deduplicationId === undefined ? {} : { MessageDeduplicationId: input.deduplicationId }),
          }),
        );
      },
    };
    this.groups = new GroupStore(stores);
    this.chains = new ChainStore(stores);
    for (const [lane, limit] of Object.entries(options.backlogLimits ?? {})) {
      this.laneConfig(lane);
      intOption(`backlogLimits.${lane}`, limit, 0, Number.MAX_SAFE_INTEGER);
    }
    this.backlog = new BacklogGuard(this.sqs, options.backlogLimits ?? {}, backlogCacheMs, this.now);
    this.results = new ResultReader(config.resultsBucket, () => options.s3 ?? createS3Client());
  }

  /** Validate and send one job. */
  async enqueue<T extends ClientJobType<R>>(
    type: T,
    payload: ClientPayload<R, T>,
    options: EnqueueOptions = {},
  ): Promise<EnqueueResult> {
    const admission = await this.admit(type, payload, options);
    if (!admission.ok) throw admission.error;
    const { job, duplicate } = admission;
    if (duplicate) return duplicate;
    try {
      if (this.needsSchedule(job)) return await this.schedule(job);
      const out = await this.sqs.send(
        new SendMessageCommand({
          QueueUrl: job.laneConfig.queueUrl,
          MessageBody: job.body,
          ...this.sqsExtras(job),
        }),
      );
      return this.result(job, { status: 'enqueued', messageId: out.MessageId });
    } catch (error) {
      const undo = await this.undoKey(job);
      throw new EnqueueError(`Could not enqueue job ${job.jobId} (${type}) on lane '${job.lane}'${undo}`, {
        cause: error,
      });
    }
  }

  /**
   * Enqueue many jobs: SendMessageBatch per lane in groups of 10, failed entries retried with
   * backoff. Never throws for one job: each result says ok or carries its error.
   */
  async enqueueBatch<T extends ClientJobType<R>>(
    items: readonly BatchItem<T, ClientPayload<R, T>>[],
  ): Promise<BatchEnqueueResult[]> {
    const results: BatchEnqueueResult[] = new Array(items.length);
    const direct: { index: number; job: Prepared }[] = [];
    await Promise.all(
      items.map(async (item, index) => {
        const admission = await this.admit(item.type, item.payload, item.options ?? {});
        if (!admission.ok) {
          const { job, error } = admission;
          results[index] = { index, ok: false, type: item.type, jobId: job?.jobId, error: asError(error) };
          return;
        }
        const { job, duplicate } = admission;
        if (duplicate) {
          results[index] = { ...duplicate, index, ok: true };
          return;
        }
        if (!this.needsSchedule(job)) {
          direct.push({ index, job });
          return;
        }
        try {
          results[index] = { ...(await this.schedule(job)), index, ok: true };
        } catch (error) {
          await this.failEntry({ index, job }, asError(error), results);
        }
      }),
    );
    await this.sendDirect(direct, results);
    return results;
  }

  /**
   * The job's ledger record, or undefined for an unknown id (unkeyed jobs appear once a consumer
   * claims them). A result the consumer stored in S3 (over the ledger's inline limit) is read back
   * into `result` (one S3 GET); a failed read throws a ResultReadError naming the job and the key.
   */
  async getJob(jobId: string): Promise<JobRecord | undefined> {
    return this.results.resolve(await this.ledger.get(jobId));
  }

  /**
   * Waits until the job is SUCCEEDED, DEAD or CANCELLED and returns its record (with its result,
   * read from S3 if it is stored there). Polls `getJob` every `initialIntervalMs`, ×1.5 per poll up
   * to `maxIntervalMs`; a job not in the ledger yet (unkeyed, before its first claim) is waited for
   * too. Rejects with a WaitTimeoutError after `timeoutMs`, or with the signal's reason. Needs
   * `grantStatusRead`; each poll costs one GetItem (0.5 read units).
   */
  waitFor(jobId: string, options: WaitForOptions = {}): Promise<JobRecord> {
    return waitForJob((id) => this.getJob(id), jobId, options, { now: this.now, sleep: this.sleep });
  }

  /**
   * Jobs by status, newest status change first, a page at a time (pass the page's `cursor` back
   * for the next). Reads the ledger's search index: the queue needs `jobSearch: true`, the caller
   * `grantStatusRead`. Costs one Query per status shard (SEARCH_INDEX.shards per status), more when
   * `type` / `lane` match few jobs; each 0.5 read unit per 4 KB read (README "Search and history").
   */
  listJobs(options: ListJobsOptions = {}): Promise<ListJobsPage> {
    return this.search.list(options);
  }

  /**
   * Cancel a job by id, or by the job type and idempotency key that name it. A queued, delayed or
   * retry-waiting job never runs (CANCELLED; a one-time schedule holding it is deleted); a running
   * one is asked to stop and ends CANCELLED within one heartbeat; a finished one is left alone
   * (`already-finished`). Costs one conditional ledger write (two for a running job), plus a
   * DeleteSchedule call for a job that was queued or unknown. Needs `grantCancel`.
   *
   * Job types with `idempotency: 'none'` read nothing before running, so they cannot be cancelled
   * before they run: by key, such a type is refused; by id, check the job's type first.
   */
  async cancel(target: CancelTarget): Promise<CancelResult> {
    const jobId = this.cancelTargetId(target);
    const outcome: CancelOutcome = await this.ledger.cancel(jobId);
    if (outcome.kind === 'finished') {
      const r = outcome.record;
      const when = r.finishedAt ? ` at ${r.finishedAt}` : '';
      return {
        jobId,
        outcome: 'already-finished',
        status: r.status ?? 'CANCELLED',
        previousStatus: r.status,
        scheduleDeleted: false,
        message: `Job ${jobId} is already ${r.status}${when}: nothing to cancel.`,
      };
    }
    if (outcome.kind === 'cancelling') {
      return {
        jobId,
        outcome: 'cancelling',
        status: 'RUNNING',
        previousStatus: 'RUNNING',
        scheduleDeleted: false,
        message: `Job ${jobId} is running: asked to stop. Its consumer aborts the handler's signal within one heartbeat (the job's heartbeatSeconds, 10 s by default) and records CANCELLED, unless the handler finishes first.`,
      };
    }
    const previous = outcome.previous?.status;
    // Only a job that was never delivered can be waiting in a one-time schedule.
    const schedule =
      previous === undefined || previous === 'ENQUEUED' ? await this.deleteJobSchedule(jobId) : 'none';
    const was = previous === undefined ? 'not in the ledger yet' : `was ${previous}`;
    const note =
      schedule === 'deleted'
        ? '; its one-time schedule was deleted'
        : schedule === 'none'
          ? ''
          : `; its one-time schedule could not be deleted (${schedule}), so it still fires, and that delivery is acknowledged without running`;
    return {
      jobId,
      outcome: 'cancelled',
      status: 'CANCELLED',
      previousStatus: previous,
      scheduleDeleted: schedule === 'deleted',
      message: `Job ${jobId} cancelled (${was}): it will not run${note}.`,
    };
  }

  /**
   * Enqueue a group of jobs with callbacks: `onComplete` is enqueued exactly once when every member
   * finished (SUCCEEDED, DEAD or CANCELLED), `onSuccess` once when all SUCCEEDED; each gets the
   * group's counts and failed ids in its payload under `group`. Up to 100,000 members, counted on
   * sharded counters (no single hot item). Members are keyed jobs (keyed by the group id and their
   * position), so repeating the call with the same `groupId` after a failure sends only what was
   * not sent. Costs per member: the keyed enqueue's PutItem, and at its end a transaction of two
   * items (4 write units) instead of one write, plus one read; per group: one PutItem, and a few
   * reads and writes when it completes. Needs `grantEnqueue` (and the callbacks' types registered).
   */
  async enqueueGroup<T extends ClientJobType<R>>(
    jobs: readonly BatchItem<T, ClientPayload<R, T>>[],
    options: EnqueueGroupOptions = {},
  ): Promise<EnqueueGroupResult> {
    if (!Array.isArray(jobs) || jobs.length < 1 || jobs.length > GROUP_LIMITS.maxMembers) {
      throw new ConfigError(
        'enqueueGroup(jobs)',
        `an array of 1 to ${GROUP_LIMITS.maxMembers} jobs`,
        Array.isArray(jobs) ? `${jobs.length} jobs` : jobs,
      );
    }
    const groupId = workflowId('enqueueGroup', 'groupId', options.groupId);
    for (const [index, item] of jobs.entries()) this.checkMemberOptions('enqueueGroup', index, item);
    const onComplete = this.callbackTarget(groupId, 'onComplete', options.onComplete);
    const onSuccess = this.callbackTarget(groupId, 'onSuccess', options.onSuccess);
    const keys = jobs.map((_, index) => `group:${groupId}:${index}`);
    const jobIds = jobs.map((item, index) => jobIdForKey(item.type, keys[index]));
    const shards = shardCount(jobs.length);
    const shardOf = jobIds.map((_, index) => memberShard(index, shards));
    const shardTotals = new Array<number>(shards).fill(0);
    for (const shard of shardOf) shardTotals[shard]++;
    const definitionHash = createHash('sha256')
      .update(JSON.stringify({ jobIds, onComplete, onSuccess }))
      .digest('hex')
      .slice(0, 32);
    // Every member is checked before anything is written.
    const prepared = jobs.map((item, index) =>
      this.prepare(item.type, item.payload, item.options ?? {}, 0, {
        key: keys[index],
        group: { id: groupId, shard: shardOf[index], index },
      }),
    );
    const created = await this.groups.create({
      groupId,
      total: jobs.length,
      shards,
      shardTotals,
      createdAt: new Date(this.now()).toISOString(),
      onComplete,
      onSuccess,
      definitionHash,
    });
    if (created === 'conflict') {
      throw new ConfigError(
        `enqueueGroup(options.groupId '${groupId}')`,
        'a group id not used yet, or the same members and callbacks as the group that has it',
        groupId,
      );
    }
    const failed: { index: number; error: Error }[] = [];
    for (let start = 0; start < prepared.length; start += GROUP_ENQUEUE_CHUNK) {
      const results = await this.sendPrepared(prepared.slice(start, start + GROUP_ENQUEUE_CHUNK));
      for (const r of results) if (!r.ok) failed.push({ index: start + r.index, error: r.error });
    }
    if (failed.length > 0) {
      const first = failed[0];
      throw new EnqueueError(
        `enqueueGroup('${groupId}'): ${failed.length} of ${jobs.length} members could not be enqueued (first: member ${first.index}, ${first.error.message}). The group waits for them: call enqueueGroup again with groupId '${groupId}' and the same jobs to send them (members already sent are not sent again).`,
        { cause: first.error },
      );
    }
    return {
      groupId,
      jobIds,
      status: created === 'created' ? 'created' : 'exists',
      callbacks: {
        ...(onComplete ? { onComplete: onComplete.jobId } : {}),
        ...(onSuccess ? { onSuccess: onSuccess.jobId } : {}),
      },
    };
  }

  /** A group's counts and state, or undefined for an unknown (or expired) group. Needs `grantStatusRead`. */
  async getGroup(groupId: string): Promise<JobGroupStatus | undefined> {
    workflowId('getGroup', 'groupId', groupId);
    const state = await this.groups.status(groupId);
    if (state === undefined) return undefined;
    const d = state.definition;
    return {
      groupId,
      total: d.total,
      pending: Math.max(0, d.total - state.succeeded - state.dead - state.cancelled),
      succeeded: state.succeeded,
      dead: state.dead,
      cancelled: state.cancelled,
      state: state.state,
      createdAt: d.createdAt,
      ...(state.completedAt ? { completedAt: state.completedAt } : {}),
      callbacks: {
        ...(d.onComplete ? { onComplete: d.onComplete.jobId } : {}),
        ...(d.onSuccess ? { onSuccess: d.onSuccess.jobId } : {}),
      },
      ...(state.summary ? { failedJobIds: state.summary.failedJobIds } : {}),
    };
  }

  /**
   * Settle a group whose members all finished but whose callbacks were not sent: the consumer that
   * finished the last member failed to settle it after retries (a DynamoDB or SQS outage) and no
   * redelivery did. Idempotent: a settled group is left alone, a callback is never sent twice.
   * Needs `grantOperate`.
   */
  async settleGroup(groupId: string): Promise<JobGroupStatus | undefined> {
    workflowId('settleGroup', 'groupId', groupId);
    await this.groups.repair(groupId);
    return this.getGroup(groupId);
  }

  /**
   * Enqueue a chain: the first step now, each next one once the step before it SUCCEEDED, with that
   * step's result as its `ctx.chain.input`. A step that ends DEAD or CANCELLED stops the chain
   * (`getChain` says FAILED, with the step and its error). Steps are keyed by the chain id and
   * position: a step that succeeds twice (a duplicate delivery) enqueues its successor once, and
   * repeating the call with the same `chainId` enqueues nothing new. The first message carries the
   * later steps' payloads, so together they must fit the message size limit. Costs per step: one
   * keyed PutItem and one UpdateItem of the chain item, plus one PutItem per chain.
   */
  async enqueueChain<T extends ClientJobType<R>>(
    steps: readonly ChainStepInput<T, ClientPayload<R, T>>[],
    options: EnqueueChainOptions = {},
  ): Promise<EnqueueChainResult> {
    if (!Array.isArray(steps) || steps.length < 1 || steps.length > MAX_CHAIN_STEPS) {
      throw new ConfigError(
        'enqueueChain(steps)',
        `an array of 1 to ${MAX_CHAIN_STEPS} steps`,
        Array.isArray(steps) ? `${steps.length} steps` : steps,
      );
    }
    const chainId = workflowId('enqueueChain', 'chainId', options.chainId);
    for (const [index, step] of steps.entries()) {
      this.checkMemberOptions('enqueueChain', index, step);
      const job = this.jobFor(step.type);
      if (index > 0 && job !== undefined && job.idempotency !== 'strict') {
        throw new ConfigError(
          `enqueueChain(steps[${index}].type)`,
          "a job type with idempotency 'strict' (a step after the first may be delivered twice; only the strict claim runs it once)",
          `${step.type} (idempotency '${job.idempotency}')`,
        );
      }
    }
    // Each step validated as its own job first; later steps travel in the first step's message.
    const resolved: ChainStep[] = steps.map((step, index) => {
      const job = this.prepare(step.type, step.payload, step.options ?? {}, 0, {
        key: chainStepKey(chainId, index),
      });
      return {
        type: step.type,
        payload: step.payload,
        lane: job.lane,
        queueUrl: job.laneConfig.queueUrl,
        fifo: job.laneConfig.fifo,
        ...(job.tenant === undefined ? {} : { tenant: job.tenant }),
      };
    });
    const link: ChainLink = { id: chainId, index: 0, next: resolved.slice(1) };
    const first = this.prepare(steps[0].type, steps[0].payload, steps[0].options ?? {}, 0, {
      key: chainStepKey(chainId, 0),
      chain: link,
    });
    const created = await this.chains.create(
      chainId,
      resolved.map((s) => ({ type: s.type, lane: s.lane })),
    );
    const [result] = await this.sendPrepared([first]);
    if (!result.ok) {
      throw new EnqueueError(
        `enqueueChain('${chainId}'): its first step could not be enqueued (${result.error.message}); call enqueueChain again with chainId '${chainId}'`,
        { cause: result.error },
      );
    }
    return {
      chainId,
      jobIds: resolved.map((s, index) => jobIdForKey(s.type, chainStepKey(chainId, index))),
      status: created,
    };
  }

  /** A chain's state and its steps' statuses, or undefined for an unknown (or expired) chain. Needs `grantStatusRead`. */
  async getChain(chainId: string): Promise<JobChainStatus | undefined> {
    workflowId('getChain', 'chainId', chainId);
    const chain = await this.chains.get(chainId);
    if (chain === undefined) return undefined;
    const records = await Promise.all(chain.steps.map((s) => this.ledger.get(s.jobId)));
    return {
      ...chain,
      steps: chain.steps.map((s, i) => ({
        ...s,
        ...(records[i]?.status ? { status: records[i]?.status } : {}),
      })),
    };
  }

  /** Sends prepared jobs (keyed: the ledger write first) like enqueueBatch; results by position. */
  private async sendPrepared(jobs: readonly Prepared[]): Promise<BatchEnqueueResult[]> {
    const results: BatchEnqueueResult[] = new Array(jobs.length);
    const direct: { index: number; job: Prepared }[] = [];
    await Promise.all(
      jobs.map(async (job, index) => {
        try {
          await this.backlog.check(job.lane, job.laneConfig.queueUrl);
          const duplicate = await this.takeKey(job);
          if (duplicate) {
            results[index] = { ...duplicate, index, ok: true };
            return;
          }
          direct.push({ index, job });
        } catch (error) {
          results[index] = { index, ok: false, type: job.type, jobId: job.jobId, error: asError(error) };
        }
      }),
    );
    await this.sendDirect(direct, results);
    return results;
  }

  /** Sends jobs straight to their lanes: SendMessageBatch per lane in groups of 10 (and the byte limit). */
  private async sendDirect(direct: { index: number; job: Prepared }[], results: BatchEnqueueResult[]) {
    const byQueue = new Map<string, { index: number; job: Prepared }[]>();
    for (const entry of direct.sort((a, b) => a.index - b.index)) {
      const url = entry.job.laneConfig.queueUrl;
      byQueue.set(url, [...(byQueue.get(url) ?? []), entry]);
    }
    for (const [queueUrl, entries] of byQueue) {
      for (const group of chunk(entries, this.maxMessageBytes))
        await this.sendGroup(queueUrl, group, results);
    }
  }

  /** Group members and chain steps: keyed by their place, sent now (no key, delay or schedule of their own). */
  private checkMemberOptions(
    where: string,
    index: number,
    item: { readonly type: string; readonly options?: object },
  ) {
    const o = (item.options ?? {}) as EnqueueOptions;
    for (const name of ['idempotencyKey', 'rerun', 'delaySeconds', 'runAt'] as const) {
      if (o[name] !== undefined) {
        throw new ConfigError(
          `${where}(jobs[${index}].options.${name})`,
          'unset: members and steps are keyed by their group or chain and sent at once',
          o[name],
        );
      }
    }
    const job = this.jobFor(item.type);
    if (job?.debounce) {
      throw new ConfigError(`${where}(jobs[${index}].type)`, 'a job type without debounce', item.type);
    }
  }

  private callbackTarget(
    groupId: string,
    which: 'onComplete' | 'onSuccess',
    callback: GroupCallbackOptions | undefined,
  ): (CallbackTarget & { readonly jobId: string }) | undefined {
    if (callback === undefined) return undefined;
    const where = `enqueueGroup(options.${which})`;
    if (typeof callback !== 'object' || callback === null || typeof callback.type !== 'string') {
      throw new ConfigError(where, '{ type, payload?, lane? }', callback);
    }
    const job = this.jobFor(callback.type);
    if (job !== undefined && job.idempotency !== 'strict') {
      throw new ConfigError(
        `${where}.type`,
        "a job type with idempotency 'strict' (a callback's id may be delivered twice; only the strict claim runs it once)",
        `${callback.type} (idempotency '${job.idempotency}')`,
      );
    }
    if (
      callback.payload !== undefined &&
      (typeof callback.payload !== 'object' || callback.payload === null || Array.isArray(callback.payload))
    ) {
      throw new ConfigError(
        `${where}.payload`,
        'an object (the summary is added under `group`)',
        callback.payload,
      );
    }
    const lane = callback.lane ?? job?.lane ?? this.config.defaultLane;
    const laneConfig = this.laneConfig(lane);
    return {
      type: callback.type,
      ...(callback.payload === undefined ? {} : { payload: callback.payload }),
      lane,
      queueUrl: laneConfig.queueUrl,
      fifo: laneConfig.fifo,
      jobId: callbackJobId(groupId, which, callback.type),
    };
  }

  private cancelTargetId(target: CancelTarget): string {
    if (typeof target === 'string') {
      // `~…` names a rate or concurrency limit item in the ledger table, never a job.
      if (target.length === 0 || target.length > MAX_JOB_ID_LENGTH || target.startsWith(LIMIT_ITEM_PREFIX)) {
        throw new ConfigError(
          'cancel(jobId)',
          `a job id of 1 to ${MAX_JOB_ID_LENGTH} characters, not starting with '${LIMIT_ITEM_PREFIX}'`,
          target,
        );
      }
      return target;
    }
    if (
      typeof target !== 'object' ||
      target === null ||
      typeof target.type !== 'string' ||
      typeof target.key !== 'string' ||
      target.key.trim() === ''
    ) {
      throw new ConfigError(
        'cancel(target)',
        "a job id, or { type, key } with the job's type and idempotency key",
        target,
      );
    }
    const job = this.jobFor(target.type);
    if (job?.idempotency === 'none') {
      throw new ConfigError(
        `cancel({ type: '${target.type}' })`,
        "a job type with idempotency 'strict' or 'optimistic' ('none' reads nothing before running, so a cancel could not stop it)",
        'none',
      );
    }
    return jobIdForKey(target.type, target.key);
  }

  /**
   * Delete the one-time schedule a delayed job waits in: `deleted`, `none` (there was none), or
   * why it failed. A failure is reported, not thrown: the ledger already says CANCELLED, so the
   * schedule's delivery is acknowledged without running.
   */
  private async deleteJobSchedule(jobId: string): Promise<string> {
    try {
      await this.scheduler.send(
        new DeleteScheduleCommand({ Name: scheduleNameFor(jobId), GroupName: this.config.scheduleGroup }),
      );
      return 'deleted';
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return 'none';
      const { type, message } = describeError(error);
      return `${type}: ${message}`;
    }
  }

  /**
   * The admit path of `enqueue` and `enqueueBatch`, before delivery: validate and build the job
   * (`prepare`), check its lane's backlog, then take its key in the ledger (keyed jobs). Never
   * throws: a refusal comes back as `ok: false` with its error.
   */
  private async admit(type: string, payload: unknown, options: EnqueueOptions): Promise<Admission> {
    let job: Prepared | undefined;
    try {
      job = this.prepare(type, payload, options);
      await this.backlog.check(job.lane, job.laneConfig.queueUrl);
      if (job.debounce?.keep === 'last') {
        job = await this.foldIntoWindow(job, type, payload, options);
        return { ok: true, job };
      }
      return { ok: true, job, duplicate: await this.takeKey(job) };
    } catch (error) {
      return { ok: false, job, error };
    }
  }

  private prepare(
    type: string,
    payload: unknown,
    options: EnqueueOptions,
    windowOffset = 0,
    link?: WorkflowLink,
  ): Prepared {
    const job = this.jobFor(type);
    const parsed = job ? parsePayload(job, payload) : payload;
    const now = this.now();
    // Every option is checked here, before the ledger write or send of either enqueue path.
    const valid = validateEnqueueOptions(type, options, {
      now,
      deriveKey: job?.idempotencyKey ? () => job.idempotencyKey?.(parsed) : undefined,
      deriveTenant: job?.tenant ? () => job.tenant?.(parsed) : undefined,
    });
    const lane = valid.lane ?? job?.lane ?? this.config.defaultLane;
    const laneConfig = this.laneConfig(lane);
    const window = job?.debounce
      ? this.debounceWindow(job, parsed, valid, laneConfig, now, windowOffset)
      : undefined;
    // A group member or chain step is keyed by its place in the group or chain.
    const key = link?.key ?? window?.key ?? valid.idempotencyKey;
    const jobId = key !== undefined ? jobIdForKey(type, key) : newJobId();
    const groupId = valid.groupId ?? (laneConfig.fifo ? valid.tenant : undefined);
    if (laneConfig.fifo && groupId === undefined) {
      throw new ConfigError(
        `enqueue('${type}') options.groupId`,
        `set (or a tenant, which then is the group): lane '${lane}' is FIFO`,
        undefined,
      );
    }
    // JSON drops an undefined payload, and the consumer dead-letters an envelope without one.
    if (payload === undefined) {
      throw new PayloadValidationError(type, '(root)', 'a JSON value is required; got undefined');
    }
    const delaySeconds = window?.delaySeconds ?? valid.delaySeconds;
    const enqueuedAt = new Date(now);
    // The producer sends the payload as given; the consumer parses it with the same schema.
    const envelope: JobEnvelope = {
      ...createEnvelope({
        id: jobId,
        type,
        payload,
        // A debounce window's key is internal: the handler sees no idempotency key.
        key: window ? undefined : key,
        correlationId: valid.correlationId,
        tenant: valid.tenant,
        enqueuedAt,
      }),
      ...(link?.group ? { group: link.group } : {}),
      ...(link?.chain ? { chain: link.chain } : {}),
    };
    let body: string;
    try {
      body = JSON.stringify(envelope);
    } catch (cause) {
      // A BigInt or a cycle: say so here rather than as a bare TypeError.
      const reason = `a JSON-serialisable value (${(cause as Error).message})`;
      throw new PayloadValidationError(type, '(root)', reason, { cause });
    }
    const size = Buffer.byteLength(body);
    if (size > this.maxMessageBytes) throw new PayloadTooLargeError(size, this.maxMessageBytes);
    const prepared = {
      type,
      jobId,
      key,
      lane,
      laneConfig,
      body,
      enqueuedAt: envelope.enqueuedAt,
      delaySeconds,
      runAt: valid.runAt,
      groupId,
      tenant: valid.tenant,
      envelope,
      ...(link?.group ? { memberOf: link.group.id } : {}),
      ...(window ? { debounce: { keep: window.keep, windowEndsAt: window.endsAt } } : {}),
    };
    if (this.needsSchedule(prepared) && size > SCHEDULER_MAX_INPUT_BYTES) {
      // Checked before anything is written: the schedule would be refused after the ledger write.
      throw new PayloadTooLargeError(
        size,
        SCHEDULER_MAX_INPUT_BYTES,
        'a job delayed through EventBridge Scheduler',
      );
    }
    if (key === undefined || window?.keep === 'last') return prepared;
    if (window) {
      // keep 'first': the window's key is taken like an idempotency key until the window ends.
      return {
        ...prepared,
        keyed: {
          payloadHash: payloadHash(parsed),
          checkPayload: false,
          keyUntil: Math.ceil(window.endsAt / 1000),
          resendAfter: now + this.resendUnsentAfterSeconds * 1000,
          rerun: false,
        },
      };
    }
    return { ...prepared, keyed: this.keyed(job, parsed, valid.rerun ?? false, now, delaySeconds) };
  }

  /**
   * A debounced job type's window: aligned to multiples of `seconds` since the epoch (`offset` 1
   * is the next one, for an enqueue that found its window's job already started). The job id is
   * the window's; `keep: 'last'` delays the message to the window's end.
   */
  private debounceWindow(
    job: AnyJob,
    parsed: unknown,
    valid: ReturnType<typeof validateEnqueueOptions>,
    laneConfig: LaneConfig,
    now: number,
    offset: number,
  ) {
    const spec = job.debounce as NonNullable<AnyJob['debounce']>;
    const where = `enqueue('${job.type}')`;
    for (const [name, given] of [
      ['idempotencyKey', valid.idempotencyKey],
      ['rerun', valid.rerun],
      // runAt before delaySeconds: validation turns a runAt into a delaySeconds too, and the
      // error must name the option the caller gave (it named delaySeconds for a runAt).
      ['runAt', valid.runAt],
      ['delaySeconds', valid.runAt === undefined ? valid.delaySeconds || undefined : undefined],
    ] as const) {
      if (given !== undefined) {
        throw new ConfigError(
          `${where} options.${name}`,
          `absent: '${job.type}' is debounced (its window decides the job id and when it runs)`,
          given instanceof Date ? given.toISOString() : given,
        );
      }
    }
    if (laneConfig.fifo) {
      throw new ConfigError(
        `defineJob('${job.type}').debounce`,
        'a standard lane: a FIFO lane has no per-message delay and deduplicates by group on its own',
        'a FIFO lane',
      );
    }
    const userKey = spec.key(parsed);
    if (!isUserKey(userKey)) {
      throw new ConfigError(`defineJob('${job.type}').debounce.key(payload)`, USER_KEY_RULE, userKey);
    }
    const windowMs = spec.seconds * 1000;
    const index = Math.floor(now / windowMs) + offset;
    const endsAt = (index + 1) * windowMs;
    const keep = spec.keep ?? 'last';
    return {
      keep,
      endsAt,
      key: `~debounce:${spec.seconds}:${index}:${userKey}`,
      delaySeconds: keep === 'last' ? Math.min(MAX_SQS_DELAY_SECONDS, Math.ceil((endsAt - now) / 1000)) : 0,
    };
  }

  /**
   * `keep: 'last'`: count this enqueue into its window's ledger item and put the number in the
   * message, so the consumer runs only the window's latest. A window whose job already started
   * (the clocks disagree about its end) sends to the next window instead.
   */
  private async foldIntoWindow(
    job: Prepared,
    type: string,
    payload: unknown,
    options: EnqueueOptions,
  ): Promise<Prepared> {
    let current = job;
    for (let offset = 1; ; offset++) {
      const window = current.debounce as NonNullable<Prepared['debounce']>;
      const outcome = await this.ledger.debounce({
        jobId: current.jobId,
        type,
        lane: current.lane,
        enqueuedAt: current.enqueuedAt,
        tenant: current.tenant,
        keepUntil: Math.ceil(window.windowEndsAt / 1000),
      });
      if (outcome.kind === 'added') {
        const envelope = { ...current.envelope, debounce: { seq: outcome.seq } };
        const body = JSON.stringify(envelope);
        const size = Buffer.byteLength(body);
        if (size > this.maxMessageBytes) {
          await this.ledger.debounceSendFailed(current.jobId, outcome.seq);
          throw new PayloadTooLargeError(size, this.maxMessageBytes);
        }
        return { ...current, envelope, body, debounce: { ...window, seq: outcome.seq } };
      }
      if (offset > 2) {
        throw new EnqueueError(
          `Could not enqueue debounced job ${type}: the ledger says its window's job has already started (check this machine's clock)`,
        );
      }
      current = this.prepare(type, payload, options, offset);
    }
  }

  /** What the ledger's keyed enqueue needs: payload hash, retention window, resend time. */
  private keyed(
    job: AnyJob | undefined,
    parsed: unknown,
    rerun: boolean,
    now: number,
    delaySeconds: number,
  ): NonNullable<Prepared['keyed']> {
    const retention = job?.keyRetentionSeconds ?? this.ledgerTtlSeconds;
    if (retention > this.ledgerTtlSeconds) {
      throw new ConfigError(
        `defineJob('${job?.type}').keyRetentionSeconds`,
        `at most the ledger TTL (${this.ledgerTtlSeconds} s), after which the ledger item is deleted`,
        retention,
      );
    }
    const nowSeconds = Math.floor(now / 1000);
    return {
      payloadHash: payloadHash(parsed),
      checkPayload: job?.checkKeyPayload ?? true,
      keyUntil: nowSeconds + Math.max(retention, delaySeconds),
      // Due time plus a grace: a job still ENQUEUED then was never sent (or its producer died).
      resendAfter: now + (delaySeconds + this.resendUnsentAfterSeconds) * 1000,
      rerun,
    };
  }

  /**
   * Keyed jobs: make the key name this job in the ledger. Returns the `duplicate` result when the
   * key already names a job (nothing to send), undefined when the caller must send (every other
   * outcome, including `written`: our own item, seen by an SDK retry of the applied write).
   */
  private async takeKey(job: Prepared): Promise<EnqueueResult | undefined> {
    if (job.keyed === undefined) return undefined;
    const input = {
      jobId: job.jobId,
      type: job.type,
      lane: job.lane,
      enqueuedAt: job.enqueuedAt,
      tenant: job.tenant,
      group: job.memberOf,
      ...job.keyed,
    };
    let outcome: KeyedEnqueueOutcome = await this.putKey(job, input);
    const held = this.unsentKeys.get(job.jobId);
    if (held !== undefined) {
      this.unsentKeys.delete(job.jobId);
      if (
        outcome.kind === 'duplicate' &&
        outcome.existing.status === 'ENQUEUED' &&
        outcome.existing.enqueuedAt === held &&
        outcome.existing.payloadHash === job.keyed.payloadHash
      ) {
        // This client's own earlier enqueue of the key left its item unsent (its undo failed): no
        // message carries the job, so remove that item and take the key for this enqueue. A
        // removal that finds the item changed (a send did arrive and was claimed) keeps `duplicate`.
        let removed: boolean;
        try {
          removed = await this.ledger.removeEnqueued(job.jobId, held);
        } catch (error) {
          this.rememberUnsent(job.jobId, held);
          throw error;
        }
        if (removed) outcome = await this.putKey(job, input);
      }
    }
    if (outcome.kind !== 'duplicate') return undefined;
    const existing = outcome.existing;
    if (
      job.keyed.checkPayload &&
      existing.payloadHash !== undefined &&
      existing.payloadHash !== job.keyed.payloadHash
    ) {
      throw new IdempotencyKeyConflictError(job.type, job.jobId, existing);
    }
    if (job.debounce) return this.result(job, { status: 'debounced', existing });
    return this.result(job, { status: 'duplicate', existing });
  }

  /**
   * The keyed ledger write. One that throws may still have been applied by an earlier try of the
   * request (the SDK retries after a lost response): the item is removed again before the error is
   * passed on, so a retry with the key is not answered `duplicate` by an item no message carries.
   */
  private async putKey(job: Prepared, input: Parameters<Ledger['enqueue']>[0]): Promise<KeyedEnqueueOutcome> {
    try {
      return await this.ledger.enqueue(input);
    } catch (error) {
      const undo = await this.undoKey(job);
      if (!undo) throw error;
      throw new EnqueueError(`Could not record the key of job ${job.jobId} (${job.type})${undo}`, {
        cause: error,
      });
    }
  }

  private jobFor(type: string): AnyJob | undefined {
    if (!this.registry) return undefined;
    const job = this.registry.get(type);
    if (!job) throw new UnknownJobTypeError(type, this.registry.types);
    return job;
  }

  private laneConfig(lane: string): LaneConfig {
    // Own keys only: '__proto__' or 'constructor' must not find Object.prototype's members.
    const config = Object.hasOwn(this.config.lanes, lane) ? this.config.lanes[lane] : undefined;
    if (!config) throw new UnknownLaneError(lane, Object.keys(this.config.lanes));
    return config;
  }

  private needsSchedule(job: Prepared): boolean {
    // FIFO queues have no per-message delay.
    return job.delaySeconds > MAX_SQS_DELAY_SECONDS || (job.laneConfig.fifo && job.delaySeconds > 0);
  }

  private sqsExtras(job: Prepared) {
    if (job.laneConfig.fifo) {
      // A debounced window sends one message per enqueue under the same job id: dedupe by number.
      const dedup = job.debounce?.seq === undefined ? job.jobId : `${job.jobId}-${job.debounce.seq}`;
      return { MessageGroupId: job.groupId, MessageDeduplicationId: dedup };
    }
    return {
      // The tenant as MessageGroupId turns on SQS fair queues for a standard queue.
      ...(job.tenant === undefined ? {} : { MessageGroupId: job.tenant }),
      ...(job.delaySeconds > 0 ? { DelaySeconds: job.delaySeconds } : {}),
    };
  }

  private async schedule(job: Prepared): Promise<EnqueueResult> {
    const at = job.runAt ?? new Date(this.now() + job.delaySeconds * 1000);
    const scheduleName = scheduleNameFor(job.jobId);
    try {
      await this.scheduler.send(
        new CreateScheduleCommand({
          Name: scheduleName,
          GroupName: this.config.scheduleGroup,
          ScheduleExpression: `at(${at.toISOString().slice(0, 19)})`,
          ScheduleExpressionTimezone: 'UTC',
          FlexibleTimeWindow: { Mode: 'OFF' },
          ActionAfterCompletion: 'DELETE',
          Target: {
            Arn: job.laneConfig.queueArn,
            RoleArn: this.config.schedulerRoleArn,
            Input: job.body,
            ...(job.laneConfig.fifo ? { SqsParameters: { MessageGroupId: job.groupId } } : {}),
            ...(this.config.scheduleDlqArn ? { DeadLetterConfig: { Arn: this.config.scheduleDlqArn } } : {}),
          },
        }),
      );
    } catch (error) {
      // A schedule named for this job id exists: ours, created by an earlier try of this request
      // that the SDK retried after losing the response, or (keyed jobs) one still pending from a
      // producer that sent the same job before. Either delivers this job id, so the job is
      // scheduled; failing here would undo the key while the schedule still fires.
      if (error instanceof ConflictException) {
        return this.result(job, { status: 'scheduled', scheduleName });
      }
      throw error;
    }
    return this.result(job, { status: 'scheduled', scheduleName });
  }

  private async sendGroup(
    queueUrl: string,
    group: { index: number; job: Prepared }[],
    results: BatchEnqueueResult[],
  ): Promise<void> {
    let pending = group;
    let lastError: unknown;
    for (let attempt = 0; attempt <= this.batchRetries && pending.length > 0; attempt++) {
      // Full jitter: random(0, 100 ms × 2^attempt).
      if (attempt > 0) await this.sleep(Math.floor(Math.random() * 100 * 2 ** attempt));
      const entries: SendMessageBatchRequestEntry[] = pending.map(({ index, job }) => ({
        Id: String(index),
        MessageBody: job.body,
        ...this.sqsExtras(job),
      }));
      try {
        const out = await this.sqs.send(
          new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }),
        );
        const retry: typeof pending = [];
        for (const ok of out.Successful ?? []) {
          const entry = pending.find((p) => String(p.index) === ok.Id);
          if (entry)
            results[entry.index] = {
              ...this.result(entry.job, { status: 'enqueued', messageId: ok.MessageId }),
              index: entry.index,
              ok: true,
            };
        }
        for (const failed of out.Failed ?? []) {
          const entry = pending.find((p) => String(p.index) === failed.Id);
          if (!entry) continue;
          lastError = new EnqueueError(
            `SendMessageBatch entry failed: ${failed.Code} ${failed.Message ?? ''}`.trim(),
          );
          if (failed.SenderFault) await this.failEntry(entry, lastError as Error, results);
          else retry.push(entry);
        }
        pending = retry;
      } catch (error) {
        // Throttling or a network error: the whole group is retried.
        lastError = error;
      }
    }
    for (const entry of pending) {
      await this.failEntry(
        entry,
        new EnqueueError(`Could not enqueue job ${entry.job.jobId} after retries`, { cause: lastError }),
        results,
      );
    }
  }

  /** A batch entry whose delivery failed after its key was taken: undo the key, record the error. */
  private async failEntry(
    entry: { index: number; job: Prepared },
    error: Error,
    results: BatchEnqueueResult[],
  ): Promise<void> {
    const undo = await this.undoKey(entry.job);
    results[entry.index] = {
      index: entry.index,
      ok: false,
      type: entry.job.type,
      jobId: entry.job.jobId,
      error: undo ? new EnqueueError(`${error.message}${undo}`, { cause: error }) : error,
    };
  }

  /**
   * Keyed job whose send failed: remove our ENQUEUED item so a retry with the key is not swallowed.
   * Returns '' when there was nothing to undo or it worked, else a sentence for the error message
   * (never swallowed: the caller's error says the key is held, and until when).
   */
  private async undoKey(job: Prepared): Promise<string> {
    if (job.debounce?.seq !== undefined) {
      // Mark this number unsent, so an earlier enqueue of the window runs instead of none.
      try {
        await this.ledger.debounceSendFailed(job.jobId, job.debounce.seq);
        return '';
      } catch (error) {
        const { type, message } = describeError(error);
        return `; marking it unsent in the ledger also failed (${type}: ${message}), so this window's job may not run: enqueue it again`;
      }
    }
    if (job.keyed === undefined) return '';
    try {
      await this.ledger.removeEnqueued(job.jobId, job.enqueuedAt);
      return '';
    } catch (error) {
      this.rememberUnsent(job.jobId, job.enqueuedAt);
      const { type, message } = describeError(error);
      const until = new Date(job.keyed.resendAfter).toISOString();
      return `; removing its ledger item also failed (${type}: ${message}), so its idempotency key stays taken until ${until}, when enqueueing it again sends the job`;
    }
  }

  private rememberUnsent(jobId: string, enqueuedAt: string): void {
    this.unsentKeys.delete(jobId);
    this.unsentKeys.set(jobId, enqueuedAt);
    // The oldest first: a client whose every undo fails must not grow without bound.
    if (this.unsentKeys.size > MAX_UNSENT_KEYS)
      this.unsentKeys.delete(this.unsentKeys.keys().next().value as string);
  }

  private result(job: Prepared, extra: Omit<EnqueueResult, 'jobId' | 'type' | 'lane'>): EnqueueResult {
    if (job.debounce === undefined) return { jobId: job.jobId, type: job.type, lane: job.lane, ...extra };
    return {
      jobId: job.jobId,
      type: job.type,
      lane: job.lane,
      ...extra,
      // Every enqueue of a `keep: 'last'` window is folded into the window's job.
      status: job.debounce.keep === 'last' ? 'debounced' : extra.status,
      windowEndsAt: new Date(job.debounce.windowEndsAt).toISOString(),
    };
  }
}

const TEN_YEARS_SECONDS = 10 * 365 * 86400;
/** Unsent keyed items a client remembers for its own retries (JobClient.unsentKeys). */
const MAX_UNSENT_KEYS = 1000;

/** Members a group sends at once (keyed writes in parallel, then batched sends). */
const GROUP_ENQUEUE_CHUNK = 250;
const MAX_CHAIN_STEPS = 50;

/** What makes a job a group member or chain step: its key and the envelope's link. */
interface WorkflowLink {
  readonly key: string;
  readonly group?: { readonly id: string; readonly shard: number; readonly index: number };
  readonly chain?: ChainLink;
}

/** A group or chain id: the one given (checked), or a new UUID. */
function workflowId(where: string, name: string, value: string | undefined): string {
  if (value === undefined) return newJobId();
  if (!isWorkflowId(value)) {
    throw new ConfigError(`${where}(${name})`, WORKFLOW_ID_RULE, value);
  }
  return value;
}

/** The one-time schedule that delivers a delayed job (delays over 15 minutes, FIFO delays). */
function scheduleNameFor(jobId: string): string {
  return `job-${jobId}`.slice(0, 64);
}

/** A JobClient option that must be an integer in [min, max]; the error names it and the value. */
function intOption(name: string, value: number, min: number, max: number): number {
  if (!isIntInRange(value, min, max))
    throw new ConfigError(`JobClient ${name}`, intRangeText(min, max), value);
  return value;
}

/** Groups of at most 10 entries and at most `maxBytes` of bodies. */
function chunk<T extends { job: Prepared }>(entries: readonly T[], maxBytes: number): T[][] {
  const groups: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = Buffer.byteLength(entry.job.body);
    if (current.length === 10 || (current.length > 0 && bytes + size > maxBytes)) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new EnqueueError(String(error));
}
