export { parseJobQueueConfig } from './config';
export { JobClient } from './job-client';
export * from './types';
