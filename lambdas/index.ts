/**
 * The runtime entry (`sqs-jobs/runtime`): what job authors and producers import, as documented in
 * README.md ("Writing jobs", "Enqueueing from your application", "Job lifecycle and failure
 * handling"), and the types those signatures name. Nothing here imports aws-cdk-lib.
 *
 * Explicit on purpose: a name exported here is public API (api/sqs-jobs-runtime.api.md records
 * it). Ledger, envelope, consumer and backoff internals stay behind their module paths.
 */

// Producer
export { type ClientJobType, type ClientPayload, JobClient } from './client/job-client';
export type {
  BatchEnqueueResult,
  BatchItem,
  ChainStepInput,
  EnqueueChainOptions,
  EnqueueChainResult,
  EnqueueGroupOptions,
  EnqueueGroupResult,
  EnqueueOptions,
  EnqueueResult,
  EnqueueStatus,
  FromStackOptions,
  GroupCallbackOptions,
  JobChainStatus,
  JobClientOptions,
  JobGroupStatus,
  JobSummary,
  ListJobsOptions,
  ListJobsPage,
  WaitForOptions,
} from './client/types';

// Job registry and error classes: everything the light registry entry (`sqs-jobs/runtime/jobs`)
// exports, named once there.
export * from './jobs';

// The stack output a client reads, and the ledger record `getJob` returns
export type {
  GroupSummary,
  JobHistoryEntry,
  JobQueueConfig,
  JobRecord,
  JobStatus,
  LaneConfig,
  LifecycleEventDetail,
} from './shared/contract';
export { JOB_STATUSES, LIFECYCLE_EVENTS } from './shared/contract';
