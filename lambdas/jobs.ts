/**
 * The light entry for registry files: defineJob, defineRegistry, errors and types, with no AWS
 * SDK client behind it. A registry is bundled into every consumer Lambda, so importing the full
 * runtime barrel from it would also bundle the producer's Scheduler and CloudFormation clients.
 */
export * from './shared/backoff';
export * from './registry';
export * from './shared/errors';
