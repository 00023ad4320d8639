/**
 * The ledger's search index (`JobQueueProps.jobSearch`), as a GSI definition a user who brings
 * their own `ledgerTable` adds to it: `table.addGlobalSecondaryIndex(JOB_SEARCH_INDEX)`.
 */
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { SEARCH_INDEX } from '../lambdas/shared/contract';

/**
 * The search index: partition key `statusKey` (S, `<STATUS>#<shard>`), sort key `statusAt`
 * (S, ISO-8601 time of the last status change), INCLUDE projection of the attributes a listing
 * shows (type, lane, status, attempts, enqueuedAt, finishedAt, updatedAt, tenant, group). Items
 * without `statusKey` (jobs written before the index was on, limit and group items) stay out of it.
 */
export const JOB_SEARCH_INDEX: dynamodb.GlobalSecondaryIndexProps = {
  indexName: SEARCH_INDEX.name,
  partitionKey: { name: SEARCH_INDEX.partitionKey, type: dynamodb.AttributeType.STRING },
  sortKey: { name: SEARCH_INDEX.sortKey, type: dynamodb.AttributeType.STRING },
  projectionType: dynamodb.ProjectionType.INCLUDE,
  nonKeyAttributes: [...SEARCH_INDEX.projected],
};
