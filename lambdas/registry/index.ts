export { defineJob, defineRegistry, parsePayload, requireJob } from './define-job';
export * from './types';
