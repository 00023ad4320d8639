/**
 * What processing one record needs (clients, clock, settings), and what it returns: shared by
 * process-record.ts and completion.ts without importing each other.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { ChainStore } from '../ledger/chain-store';
import type { GroupStore } from '../ledger/group-store';
import type { Ledger } from '../ledger/ledger';
import type { Limits } from '../ledger/limits';
import type { JobRegistry } from '../registry/types';
import type { Random } from '../shared/backoff';
import type { ConsumerConfig } from './config';
import type { ResultStore } from './result-store';
import type { SqsActions } from './sqs-actions';
import type { JobOutcome } from './telemetry';

export interface ProcessDeps {
  readonly registry: JobRegistry;
  readonly config: ConsumerConfig;
  readonly ledger: Ledger;
  /** Rate-limit buckets and concurrency leases (job types with `rateLimit` / `concurrency`). */
  readonly limits?: Limits;
  readonly sqs: SqsActions;
  readonly logger: Logger;
  readonly random: Random;
  readonly now: () => number;
  readonly progressIntervalMs: number;
  readonly heartbeatIntervalMs?: number;
  /** How often a long run checks for a cancel request, ms. @default - the job's heartbeatSeconds (10 s) */
  readonly cancelCheckIntervalMs?: number;
  /** Kept back from the Lambda's remaining time for the final ledger write and SQS calls. */
  readonly safetyMarginMs: number;
  /** Added to the handler deadline to form the lease. */
  readonly leaseGraceMs: number;
  /** How long a timed-out handler gets to honour its abort signal. @default 1000 */
  readonly settleGraceMs?: number;
  /**
   * Told about a handler that timed out and did not settle; the promise settles once the handler
   * has and its late outcome is written. Until then the environment must not run other jobs.
   */
  readonly onAbandoned?: (settled: Promise<unknown>) => void;
  /** Stores results over the ledger's inline limit in S3. @default - none: such results become a note */
  readonly results?: ResultStore;
  /** Sleeps between retries of the final ledger write. @default - setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Groups and chains: what a finished member or step does next. Absent: nothing (unit tests). */
  readonly workflow?: WorkflowDeps;
}

/** Where a finished group member or chain step reports (see workflow.ts). */
export interface WorkflowDeps {
  readonly groups: GroupStore;
  readonly chains: ChainStore;
}

/** Outcome plus how long a FIFO group should wait behind it. */
export type RecordOutcome = JobOutcome & { readonly retryAfterSeconds?: number };
