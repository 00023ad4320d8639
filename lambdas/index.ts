/**
 * The runtime entry (`sqs-jobs/runtime`): everything job authors and producers import.
 * Nothing here imports aws-cdk-lib.
 */
export * from './client';
export * from './consumer';
export { Ledger, type LedgerOptions } from './ledger/ledger';
export * from './registry';
export * from './shared/contract';
export { createEnvelope, jobIdForKey, newJobId, readEnvelope } from './shared/envelope';
export * from './shared/errors';
