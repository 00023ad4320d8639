export {
  configFromStackOutputs,
  parseJobQueueConfig,
  readStackConfig,
  StackConfigError,
  type StackOutput,
} from './config';
export { JobClient } from './job-client';
export * from './types';
