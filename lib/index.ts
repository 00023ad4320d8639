export {
  CONFIG_OUTPUT_DESCRIPTION,
  type JobQueueConfig,
  type LaneConfig,
} from '../lambdas/shared/contract';
export * from './errors';
export * from './job-lane';
export * from './job-queue';
export * from './job-queue-monitoring';
export * from './job-schedule';
export * from './lanes';
