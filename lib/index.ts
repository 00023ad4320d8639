/**
 * The construct library (`sqs-jobs`): what the README's "Using the construct library" documents,
 * and nothing else. Lane resolution, the lane construct and the consumer entry stay private.
 */

// The type of the `registry` prop; the registry's own types are exported by `sqs-jobs/runtime`.
export type { JobRegistry } from '../lambdas/registry/types';
export {
  CONFIG_OUTPUT_DESCRIPTION,
  type JobQueueConfig,
  type LaneConfig,
  LIFECYCLE_EVENTS,
  type LifecycleEventDetail,
} from '../lambdas/shared/contract';
export { JobQueueConfigError } from './errors';
export type {
  IJobLane,
  IJobQueue,
  IJobSchedule,
  IMonitoredJobLane,
  IOwnedJobLane,
  JobLaneAttributes,
  JobMetricOptions,
  JobQueueAttributes,
  JobScheduleOptions,
} from './interfaces';
export {
  type BackoffOptions,
  type ConsumerLogLevel,
  JobQueue,
  type JobQueueProps,
  type LifecycleEventsOptions,
} from './job-queue';
export { JobQueueBase } from './job-queue-base';
export {
  type AlarmSeverity,
  type JobQueueAlarmOptions,
  JobQueueMonitoring,
  type JobQueueMonitoringProps,
  type MonitoringProfile,
} from './job-queue-monitoring';
export { JobSchedule, type JobScheduleProps } from './job-schedule';
export { JOB_SEARCH_INDEX } from './job-search-index';
export { DEFAULT_LANES, type LaneOptions, type ProvisionedPollerOptions } from './lanes';
