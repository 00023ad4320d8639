/** Types of the job registry: a job's payload type flows from its schema to producer and handler. */
import type { Logger } from '@aws-lambda-powertools/logger';
import type * as z from 'zod';
import type { BackoffOptions } from '../shared/backoff';

/**
 * How the consumer uses the ledger for a job type (DynamoDB writes are most of the cost per job):
 * - `strict`: claim (conditional UpdateItem) before, complete after: 2 writes, no concurrent double run.
 * - `optimistic`: consistent GetItem before, one conditional write after: 1 read + 1 write; two
 *   concurrent deliveries can both run, but a finished job is never run again.
 * - `none`: no ledger on the happy path (failures are still recorded).
 */
export type IdempotencyMode = 'strict' | 'optimistic' | 'none';

export const IDEMPOTENCY_MODES: readonly IdempotencyMode[] = ['strict', 'optimistic', 'none'];

/**
 * At most `limit` runs per `perSeconds`, shared by every consumer of every lane (a token bucket in
 * the ledger table, refilled continuously: `limit` may run at once after a quiet spell). A
 * delivery over the limit is deferred with jitter and uses no attempt.
 */
export interface RateLimit<P = unknown> {
  /** Runs allowed per interval, 1 to 100000. */
  readonly limit: number;
  /** The interval, seconds, 1 to 86400. */
  readonly perSeconds: number;
  /**
   * One limit per key (for example per account id); 1-256 characters.
   * @default - one limit for the whole job type
   */
  key?(payload: P): string;
}

/**
 * At most `limit` runs at once, shared by every consumer of every lane (a lease counter in the
 * ledger table; a crashed run's slot frees itself when its lease ends). A delivery over the limit
 * is deferred with jitter and uses no attempt.
 */
export interface ConcurrencyLimit<P = unknown> {
  /** Runs at once, 1 to 100 (up to about 30 the lease item stays under 1 KB: one write unit per acquire). */
  readonly limit: number;
  /**
   * One limit per key (for example per account id); 1-256 characters.
   * @default - one limit for the whole job type
   */
  key?(payload: P): string;
}

/**
 * Several enqueues with the same key within `seconds` run the job once. Windows are aligned to
 * multiples of `seconds` since the epoch; after its window a key runs again (unlike an
 * idempotency key).
 */
export interface Debounce<P = unknown> {
  /** The key; 1-256 characters. */
  key(payload: P): string;
  /** The window, 1 to 900 seconds. */
  readonly seconds: number;
  /**
   * `last`: the job runs once when the window ends, with the last payload enqueued in it.
   * `first`: the job runs at once with the first payload; later enqueues in the window are dropped.
   * @default 'last'
   */
  readonly keep?: 'last' | 'first';
}

/** A small progress value: a percentage or a small JSON object. */
export type JobProgress = number | Record<string, unknown>;

/** What a handler receives besides its payload. */
export interface JobContext {
  readonly jobId: string;
  readonly type: string;
  /**
   * 1-based attempt: runs of the handler the ledger counts, this one included (deferrals and
   * receives that did not run the handler are not counted). In `none` mode, which reads nothing
   * before running, the SQS receive count.
   */
  readonly attempt: number;
  readonly lane: string;
  /** Aborted when the job's timeout or the Lambda's remaining time runs out. */
  readonly signal: AbortSignal;
  /** Powertools logger with jobId, type, lane, attempt and correlationId as persistent keys. */
  readonly logger: Logger;
  readonly correlationId?: string;
  readonly idempotencyKey?: string;
  /** ISO-8601 time the job was enqueued. */
  readonly enqueuedAt: string;
  /** Report progress to the ledger (throttled: at most one write per interval; the last value wins). */
  progress(value: JobProgress): Promise<void>;
  /** The job's tenant, if it has one. */
  readonly tenant?: string;
  /** Milliseconds left before the handler's deadline. */
  remainingMs(): number;
  /**
   * Jobs of a chain (`enqueueChain`): the chain's id, this step's position (from 0), and the
   * result of the step before (`input`, absent for the first step).
   */
  readonly chain?: { readonly id: string; readonly index: number; readonly input?: unknown };
  /** Members of a group (`enqueueGroup`): the group's id. */
  readonly groupId?: string;
}

/** What `defineJob` takes. */
export interface JobSpec<T extends string, S extends z.ZodType, R> {
  /** Registry key and message `type`. */
  readonly type: T;
  /** zod schema of the payload; validated by the producer and again by the consumer. */
  readonly schema: S;
  /**
   * Lane (queue) the producer sends to.
   * @default - the config's default lane
   */
  readonly lane?: string;
  /**
   * Runs of the handler before the job is dead-lettered (counted by the ledger, not SQS receives).
   * Effective value is min(this, the lane's max attempts).
   * @default - the lane's max attempts
   */
  readonly maxAttempts?: number;
  /**
   * Backoff between attempts.
   * @default - the lane's JOBS_BACKOFF_BASE_SECONDS / JOBS_BACKOFF_CAP_SECONDS
   */
  readonly backoff?: Partial<BackoffOptions>;
  /**
   * Handler deadline in seconds (also bounded by the Lambda's remaining time).
   * @default - the Lambda's remaining time
   */
  readonly timeoutSeconds?: number;
  /** @default 'strict' */
  readonly idempotency?: IdempotencyMode;
  /**
   * Derives an idempotency key from the payload when `enqueue` gets none.
   * @default - no key: every enqueue is a new job
   */
  idempotencyKey?(payload: z.output<S>): string | undefined;
  /**
   * How long an idempotency key names its job, seconds: within it, enqueueing the same key returns
   * the existing job whatever its state (re-running is explicit: `enqueue(..., { rerun: true })`).
   * At most the ledger TTL (the item is deleted after it).
   * @default - the ledger TTL (the JobQueue's `ledgerTtl`)
   */
  readonly keyRetentionSeconds?: number;
  /**
   * Refuse a key reused with another payload (IdempotencyKeyConflictError). Set false for job
   * types whose key deliberately covers changing payloads (the first payload wins).
   * @default true
   */
  readonly checkKeyPayload?: boolean;
  /**
   * The job's tenant, from its payload (an enqueue's `tenant` option wins). On standard lanes it is
   * the message's MessageGroupId, which turns on SQS fair queues; it is in every log line.
   * @default - no tenant
   */
  tenant?(payload: z.output<S>): string | undefined;
  /**
   * Also emit the job metrics per tenant ({JobType, Lane, Tenant}). Each tenant is a custom metric
   * set: opt in only when someone reads them.
   * @default false
   */
  readonly tenantMetrics?: boolean;
  /** @default - no rate limit */
  readonly rateLimit?: RateLimit<z.output<S>>;
  /** @default - no concurrency limit */
  readonly concurrency?: ConcurrencyLimit<z.output<S>>;
  /** @default - no debounce */
  readonly debounce?: Debounce<z.output<S>>;
  /**
   * While a run lasts longer than this, the consumer checks this often whether the job was
   * cancelled (one eventually consistent read, 0.5 read units) and aborts its signal if so.
   * 1 to 900. Runs shorter than this read nothing.
   * @default 10
   */
  readonly heartbeatSeconds?: number;
  handler(payload: z.output<S>, ctx: JobContext): Promise<R>;
}

/** A defined job. Method syntax keeps definitions with specific payloads assignable to `AnyJob`. */
export interface JobDefinition<T extends string = string, S extends z.ZodType = z.ZodType, R = unknown> {
  readonly type: T;
  readonly schema: S;
  readonly lane?: string;
  readonly maxAttempts?: number;
  readonly backoff?: Partial<BackoffOptions>;
  readonly timeoutSeconds?: number;
  readonly idempotency: IdempotencyMode;
  idempotencyKey?(payload: z.output<S>): string | undefined;
  readonly keyRetentionSeconds?: number;
  readonly checkKeyPayload?: boolean;
  tenant?(payload: z.output<S>): string | undefined;
  readonly tenantMetrics?: boolean;
  readonly rateLimit?: RateLimit<z.output<S>>;
  readonly concurrency?: ConcurrencyLimit<z.output<S>>;
  readonly debounce?: Debounce<z.output<S>>;
  readonly heartbeatSeconds?: number;
  handler(payload: z.output<S>, ctx: JobContext): Promise<R>;
}

export type AnyJob = JobDefinition<string, z.ZodType, unknown>;

/** A typed registry of jobs, shared by the consumer and the producer. */
export interface JobRegistry<J extends AnyJob = AnyJob> {
  /** Job types, in definition order. */
  readonly types: readonly J['type'][];
  get<T extends string>(type: T): Extract<J, { type: T }> | undefined;
  has(type: string): boolean;
}

/** Union of job types in a registry. */
export type JobTypeOf<R> = R extends JobRegistry<infer J> ? J['type'] : never;
/** The definition of job type `T` in registry `R`. */
export type JobOf<R, T extends string> = R extends JobRegistry<infer J> ? Extract<J, { type: T }> : never;
/** What a producer passes for job type `T` (schema input). */
export type PayloadInputOf<R, T extends string> =
  JobOf<R, T> extends JobDefinition<T, infer S, unknown> ? z.input<S> : never;
/** What a handler of job type `T` receives (schema output). */
export type PayloadOf<R, T extends string> =
  JobOf<R, T> extends JobDefinition<T, infer S, unknown> ? z.output<S> : never;
/** What a handler of job type `T` returns. */
export type ResultOf<R, T extends string> =
  JobOf<R, T> extends JobDefinition<T, z.ZodType, infer Res> ? Res : never;
