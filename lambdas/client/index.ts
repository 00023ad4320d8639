export { configFromStackOutputs, parseJobQueueConfig, type StackOutput } from './config';
export { JobClient } from './job-client';
export * from './types';
