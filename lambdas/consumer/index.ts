export {
  type BackoffOptions,
  backoffCeilingSeconds,
  fullJitterBackoffSeconds,
  MAX_BACKOFF_SECONDS,
  type Random,
  retryHorizonSeconds,
} from '../shared/backoff';
export { CONSUMER_DEFAULTS, type ConsumerConfig, readConsumerConfig } from './config';
export { type ConsumerHandler, type ConsumerOptions, createConsumerHandler } from './handler';
export type { JobOutcome, JobOutcomeStatus } from './telemetry';
