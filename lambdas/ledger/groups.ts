/**
 * Keys of groups (`enqueueGroup`). A group is one item `~group:<id>` (its definition, callbacks
 * and state) plus counter shards `~group:<id>#<n>`; member `i` counts in shard `i mod shards`, so
 * no single item takes every member's write.
 */
import { GROUP_ITEM_PREFIX, GROUP_LIMITS } from '../shared/contract';

/** Attribute names of group and shard items (besides the ledger's `jobId`, `updatedAt`, `expiresAt`). */
export const GROUP_ATTR = {
  kind: 'kind',
  total: 'total',
  shards: 'shards',
  /** Group item: the shards whose members all finished (NS, idempotent ADD). */
  doneShards: 'doneShards',
  state: 'state',
  createdAt: 'createdAt',
  completedAt: 'completedAt',
  callbacks: 'callbacks',
  summary: 'summary',
  definitionHash: 'definitionHash',
  /** Shard item: positions of the members that SUCCEEDED (NS). */
  succeeded: 'succeeded',
  /** Shard item: job ids of the members that ended DEAD (SS; a redriven one that succeeds leaves it). */
  dead: 'dead',
  /** Shard item: job ids of the members that ended CANCELLED (SS). */
  cancelled: 'cancelled',
} as const;

export function groupItemId(groupId: string): string {
  return `${GROUP_ITEM_PREFIX}${groupId}`;
}

export function groupShardItemId(groupId: string, shard: number): string {
  return `${GROUP_ITEM_PREFIX}${groupId}#${shard}`;
}

/** Counter shards for a group of `total` members (GROUP_LIMITS.membersPerShard each, at most maxShards). */
export function shardCount(total: number): number {
  return Math.max(1, Math.min(GROUP_LIMITS.maxShards, Math.ceil(total / GROUP_LIMITS.membersPerShard)));
}

/** The counter shard of the member at `index`. */
export function memberShard(index: number, shards: number): number {
  return index % shards;
}
