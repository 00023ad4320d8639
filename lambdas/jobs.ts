/**
 * The light entry for registry files (`sqs-jobs/runtime/jobs`): defineJob, defineRegistry, the
 * registry's types and the error classes, with no AWS SDK client behind it. A registry is bundled
 * into every consumer Lambda, so importing the full runtime barrel from it would also bundle the
 * producer's Scheduler and CloudFormation clients. Every name here is also exported by
 * `sqs-jobs/runtime` (lambdas/index.ts).
 */
export { defineJob, defineRegistry } from './registry/define-job';
export { groupSummarySchema } from './registry/group-summary';
export type {
  AnyJob,
  ConcurrencyLimit,
  Debounce,
  IdempotencyMode,
  JobContext,
  JobDefinition,
  JobOf,
  JobProgress,
  JobRegistry,
  JobSpec,
  JobTypeOf,
  PayloadInputOf,
  PayloadOf,
  RateLimit,
  ResultOf,
} from './registry/types';
export type { BackoffOptions } from './shared/backoff';
export {
  AttemptsExhaustedError,
  BacklogLimitError,
  ConfigError,
  EnqueueError,
  IdempotencyKeyConflictError,
  JobCancelledError,
  JobDefinitionError,
  JobsError,
  JobTimeoutError,
  PayloadTooLargeError,
  PayloadValidationError,
  PermanentJobError,
  ReceiveBudgetExhaustedError,
  ResultReadError,
  UnknownJobTypeError,
  UnknownLaneError,
  WaitTimeoutError,
} from './shared/errors';
