/**
 * Groups (`enqueueGroup`): creating one, counting members as they finish, sending its callbacks
 * exactly once, and reading its status.
 *
 * Exactly once, by construction, with single-item writes only (no transactions, which conflict on
 * a busy item):
 * - a member is counted by adding it to a set on its counter shard (its position to `succeeded`,
 *   or its job id to `dead` / `cancelled`): adding it again changes nothing, so a duplicate
 *   delivery, a retry or a redelivery after a crash never counts it twice; a DEAD member that is
 *   redriven and succeeds moves from `dead` to `succeeded` in the same write;
 * - a shard whose sets hold all its members adds its number to the group item's `doneShards` set,
 *   idempotent the same way;
 * - once `doneShards` holds every shard, the callbacks are enqueued as keyed jobs with ids derived
 *   from the group id: whoever completes the group (two shards finishing at once, or a redelivery
 *   after a crash) writes or finds the same ledger item, and the claim runs the callback once. A
 *   send repeated after a crash only delivers the same job id again.
 * Counting runs after every member's final ledger write and on every redelivery of a finished
 * member, so a consumer that dies between the write and the count leaves it to the redelivery.
 */

import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  LEDGER_ATTR as A,
  GROUP_LIMITS,
  type GroupCallback,
  type GroupSummary,
  type JobEnvelope,
} from '../shared/contract';
import { createEnvelope, jobIdForKey } from '../shared/envelope';
import type { Item } from './codec';
import { GROUP_ATTR as G, groupItemId, groupShardItemId } from './groups';
import type { Ledger } from './ledger';

/** A callback as the group item keeps it: where to send it, under which job id. */
export interface CallbackTarget extends GroupCallback {
  /** The callback's job id (callbackJobId). */
  readonly jobId: string;
  readonly lane: string;
  readonly queueUrl: string;
  readonly fifo: boolean;
}

export interface GroupDefinition {
  readonly groupId: string;
  readonly total: number;
  readonly shards: number;
  /** Members per shard (index = shard). */
  readonly shardTotals: readonly number[];
  readonly createdAt: string;
  readonly onComplete?: CallbackTarget;
  readonly onSuccess?: CallbackTarget;
  /** Hash of what defines the group: a second `enqueueGroup` with the same id must match it. */
  readonly definitionHash: string;
}

/** The counts and state read from a group's items. */
export interface GroupState {
  readonly definition: GroupDefinition;
  readonly succeeded: number;
  readonly dead: number;
  readonly cancelled: number;
  readonly state: 'RUNNING' | 'COMPLETE';
  readonly completedAt?: string;
  readonly summary?: GroupSummary;
}

export type SendCallback = (input: {
  readonly queueUrl: string;
  readonly fifo: boolean;
  readonly body: string;
  readonly messageGroupId?: string;
  readonly deduplicationId?: string;
}) => Promise<void>;

export interface GroupStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly ledger: Ledger;
  readonly ttlSeconds: number;
  /** Sends a callback's message (the consumer's or the client's SQS client). */
  readonly send: SendCallback;
  readonly now?: () => number;
}

/** The final statuses a member is counted by. */
export type MemberOutcome = 'SUCCEEDED' | 'DEAD' | 'CANCELLED';

export type SettleOutcome =
  /** Members of the group are still running. */
  | { readonly kind: 'pending' }
  /** Every member finished and the callbacks were enqueued (now or before). */
  | { readonly kind: 'complete'; readonly summary?: GroupSummary }
  /** The group item is gone (expired) or was never written. */
  | { readonly kind: 'missing' };

/** The callback's deterministic job id: every settler of the group names the same job. */
export function callbackJobId(groupId: string, which: 'onComplete' | 'onSuccess', type: string): string {
  return jobIdForKey(type, callbackKey(groupId, which));
}

function callbackKey(groupId: string, which: 'onComplete' | 'onSuccess'): string {
  return `group:${groupId}:${which}`;
}

/** Group definitions a GroupStore keeps in memory. */
const MAX_CACHED_DEFINITIONS = 1000;

export class GroupStore {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  private readonly ledger: Ledger;
  private readonly ttlSeconds: number;
  private readonly send: SendCallback;
  private readonly now: () => number;
  /** Group definitions never change: one read per group per container. */
  private readonly definitions = new Map<string, GroupDefinition>();

  constructor(options: GroupStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.ledger = options.ledger;
    this.ttlSeconds = options.ttlSeconds;
    this.send = options.send;
    this.now = options.now ?? Date.now;
  }

  /**
   * Writes the group item (one conditional PutItem). `exists` when a group with this id and the
   * same definition is there already (a retried `enqueueGroup`); `conflict` when its definition differs.
   */
  async create(definition: GroupDefinition): Promise<'created' | 'exists' | 'conflict'> {
    const now = this.now();
    const item: Item = {
      [A.jobId]: { S: groupItemId(definition.groupId) },
      [G.kind]: { S: 'group' },
      [G.total]: { N: String(definition.total) },
      [G.shards]: { N: String(definition.shards) },
      [G.createdAt]: { S: definition.createdAt },
      [G.state]: { S: 'RUNNING' },
      [G.definitionHash]: { S: definition.definitionHash },
      [G.callbacks]: {
        S: JSON.stringify({
          shardTotals: definition.shardTotals,
          onComplete: definition.onComplete,
          onSuccess: definition.onSuccess,
        }),
      },
      [A.updatedAt]: { S: new Date(now).toISOString() },
      [A.expiresAt]: { N: String(this.expiresAt(now)) },
    };
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(#jobId)',
          ExpressionAttributeNames: { '#jobId': A.jobId },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      this.definitions.set(definition.groupId, definition);
      return 'created';
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = error.Item as Item | undefined;
      return existing?.[G.definitionHash]?.S === definition.definitionHash ? 'exists' : 'conflict';
    }
  }

  /**
   * A member finished (or a finished member was delivered again): count it in its shard (an
   * idempotent set write); if that completes the shard, mark the shard done on the group item
   * (idempotent too); if every shard is done, enqueue the callbacks (once) and mark the group
   * COMPLETE. Costs one write while the shard still runs, two when it completes.
   */
  async settle(
    member: { readonly id: string; readonly shard: number; readonly index: number },
    outcome: MemberOutcome,
    jobId: string,
  ): Promise<SettleOutcome> {
    const definition = await this.definition(member.id);
    if (definition === undefined) return { kind: 'missing' };
    const shardTotal = definition.shardTotals[member.shard];
    if (shardTotal === undefined) return { kind: 'missing' };
    const now = this.now();
    const names: Record<string, string> = { '#updatedAt': A.updatedAt, '#expiresAt': A.expiresAt };
    const values: Record<string, AttributeValue> = {
      ':now': { S: new Date(now).toISOString() },
      ':expiresAt': { N: String(this.expiresAt(now)) },
    };
    let expression = 'SET #updatedAt = :now, #expiresAt = :expiresAt';
    if (outcome === 'SUCCEEDED') {
      // A redriven DEAD member that now succeeded leaves `dead` (a no-op for any other member).
      names['#succeeded'] = G.succeeded;
      names['#dead'] = G.dead;
      values[':index'] = { NS: [String(member.index)] };
      values[':jobId'] = { SS: [jobId] };
      expression += ' ADD #succeeded :index DELETE #dead :jobId';
    } else {
      // Never over a success (a stale DEAD from a run that lost its lease), and a CANCELLED member
      // (a redriven DEAD one, cancelled while it waited for a retry) leaves `dead`.
      names['#field'] = outcome === 'DEAD' ? G.dead : G.cancelled;
      names['#succeeded'] = G.succeeded;
      values[':jobId'] = { SS: [jobId] };
      values[':index'] = { N: String(member.index) };
      expression += ' ADD #field :jobId';
      if (outcome === 'CANCELLED') {
        names['#dead'] = G.dead;
        expression += ' DELETE #dead :jobId';
      }
    }
    let shard: Item | undefined;
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [A.jobId]: { S: groupShardItemId(member.id, member.shard) } },
          UpdateExpression: expression,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ...(outcome === 'SUCCEEDED' ? {} : { ConditionExpression: 'NOT contains(#succeeded, :index)' }),
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      shard = out.Attributes as Item | undefined;
    } catch (error) {
      // Counted SUCCEEDED already: it stays so; the shard is as it was.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      shard = error.Item as Item | undefined;
    }
    if (countShard(shard).finished < shardTotal) return { kind: 'pending' };
    return this.shardDone(definition, member.shard);
  }

  /** Mark a shard done on the group item (idempotent); complete the group once every shard is. */
  private async shardDone(definition: GroupDefinition, shard: number): Promise<SettleOutcome> {
    let meta: Item | undefined;
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [A.jobId]: { S: groupItemId(definition.groupId) } },
          UpdateExpression: 'ADD #doneShards :shard SET #updatedAt = :now, #expiresAt = :expiresAt',
          ConditionExpression: 'attribute_exists(#jobId)',
          ExpressionAttributeNames: {
            '#doneShards': G.doneShards,
            '#updatedAt': A.updatedAt,
            '#expiresAt': A.expiresAt,
            '#jobId': A.jobId,
          },
          ExpressionAttributeValues: {
            ':shard': { NS: [String(shard)] },
            ':now': { S: new Date(this.now()).toISOString() },
            ':expiresAt': { N: String(this.expiresAt(this.now())) },
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      meta = out.Attributes as Item | undefined;
    } catch (error) {
      // The group item expired (or was never written): nothing to complete.
      if (error instanceof ConditionalCheckFailedException) return { kind: 'missing' };
      throw error;
    }
    if (meta?.[G.state]?.S === 'COMPLETE') return { kind: 'complete' };
    if ((meta?.[G.doneShards]?.NS?.length ?? 0) < definition.shards) return { kind: 'pending' };
    return this.complete(definition);
  }

  /** The group's counts and state (reads only), or undefined when there is no such group. */
  async status(groupId: string): Promise<GroupState | undefined> {
    const definition = await this.definition(groupId, true);
    if (definition === undefined) return undefined;
    const meta = await this.getItem(groupItemId(groupId));
    const counts = sumShards(await this.readShards(definition));
    const summary = meta?.[G.summary]?.S;
    return {
      definition,
      succeeded: counts.succeeded,
      dead: counts.dead,
      cancelled: counts.cancelled,
      state: meta?.[G.state]?.S === 'COMPLETE' ? 'COMPLETE' : 'RUNNING',
      completedAt: meta?.[G.completedAt]?.S,
      summary: summary === undefined ? undefined : (JSON.parse(summary) as GroupSummary),
    };
  }

  /**
   * Settles every shard of a group whose members are all counted but that is not COMPLETE (the
   * consumer that finished its last member failed to settle it, and nothing redelivered).
   */
  async repair(groupId: string): Promise<SettleOutcome> {
    const definition = await this.definition(groupId, true);
    if (definition === undefined) return { kind: 'missing' };
    const shards = await this.readShards(definition);
    let last: SettleOutcome = { kind: 'pending' };
    for (const item of shards) {
      const shard = Number((item[A.jobId]?.S ?? '').split('#').pop());
      const total = definition.shardTotals[shard];
      if (total === undefined || countShard(item).finished < total) continue;
      last = await this.shardDone(definition, shard);
      if (last.kind === 'complete') return last;
    }
    return last;
  }

  /** Every member finished: enqueue the callbacks (each once) and mark the group COMPLETE. */
  private async complete(definition: GroupDefinition): Promise<SettleOutcome> {
    const counts = sumShards(await this.readShards(definition));
    const summary: GroupSummary = {
      groupId: definition.groupId,
      total: definition.total,
      succeeded: counts.succeeded,
      dead: counts.dead,
      cancelled: counts.cancelled,
      failedJobIds: counts.failedJobIds.slice(0, GROUP_LIMITS.failedIdsInCallback),
    };
    if (definition.onComplete)
      await this.enqueueCallback(definition, 'onComplete', definition.onComplete, summary);
    if (definition.onSuccess && counts.dead === 0 && counts.cancelled === 0) {
      await this.enqueueCallback(definition, 'onSuccess', definition.onSuccess, summary);
    }
    const now = this.now();
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [A.jobId]: { S: groupItemId(definition.groupId) } },
          UpdateExpression:
            'SET #state = :complete, #completedAt = :now, #summary = :summary, #updatedAt = :now',
          ConditionExpression: '#state <> :complete',
          ExpressionAttributeNames: {
            '#state': G.state,
            '#completedAt': G.completedAt,
            '#summary': G.summary,
            '#updatedAt': A.updatedAt,
          },
          ExpressionAttributeValues: {
            ':complete': { S: 'COMPLETE' },
            ':now': { S: new Date(now).toISOString() },
            ':summary': { S: JSON.stringify(summary) },
          },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    return { kind: 'complete', summary };
  }

  /**
   * The callback as a keyed job: the first settler writes its ENQUEUED item and sends it; a
   * settler that finds it still ENQUEUED sends it again (it may be the one that died before its
   * send; the claim runs the job id once); one that finds it claimed or finished sends nothing.
   */
  private async enqueueCallback(
    definition: GroupDefinition,
    which: 'onComplete' | 'onSuccess',
    target: CallbackTarget,
    summary: GroupSummary,
  ): Promise<void> {
    const now = this.now();
    const jobId = callbackJobId(definition.groupId, which, target.type);
    const enqueuedAt = new Date(now).toISOString();
    const outcome = await this.ledger.enqueue({
      jobId,
      type: target.type,
      lane: target.lane,
      enqueuedAt,
      keyUntil: Math.floor(now / 1000) + this.ttlSeconds,
      // Any later settler may send it again while it is unclaimed (see above).
      resendAfter: now,
      checkPayload: false,
    });
    if (outcome.kind === 'duplicate') return;
    const envelope: JobEnvelope = createEnvelope({
      id: jobId,
      type: target.type,
      payload: { ...(target.payload ?? {}), group: summary },
      key: callbackKey(definition.groupId, which),
      enqueuedAt: new Date(now),
    });
    await this.send({
      queueUrl: target.queueUrl,
      fifo: target.fifo,
      body: JSON.stringify(envelope),
      ...(target.fifo ? { messageGroupId: definition.groupId, deduplicationId: jobId } : {}),
    });
  }

  private async readShards(definition: GroupDefinition): Promise<Item[]> {
    const ids = Array.from({ length: definition.shards }, (_, i) => groupShardItemId(definition.groupId, i));
    return this.batchGet(ids, undefined, true);
  }

  /** BatchGetItem in chunks of 100, retrying unprocessed keys. */
  private async batchGet(
    ids: readonly string[],
    projection?: readonly string[],
    consistent = false,
  ): Promise<Item[]> {
    const out: Item[] = [];
    for (let i = 0; i < ids.length; i += 100) {
      let keys: Item[] = ids.slice(i, i + 100).map((id) => ({ [A.jobId]: { S: id } }));
      for (let round = 0; keys.length > 0; round++) {
        if (round > 8)
          throw new Error(`BatchGetItem left ${keys.length} keys unprocessed after ${round} rounds`);
        const res = await this.client.send(
          new BatchGetItemCommand({
            RequestItems: {
              [this.tableName]: {
                Keys: keys,
                ConsistentRead: consistent,
                ...projectionOf(projection),
              },
            },
          }),
        );
        out.push(...((res.Responses?.[this.tableName] ?? []) as Item[]));
        keys = (res.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Item[];
        if (keys.length > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** round));
      }
    }
    return out;
  }

  private async definition(groupId: string, fresh = false): Promise<GroupDefinition | undefined> {
    const cached = this.definitions.get(groupId);
    if (cached && !fresh) return cached;
    const item = await this.getItem(groupItemId(groupId));
    if (item === undefined || item[G.kind]?.S !== 'group') return undefined;
    const extra = JSON.parse(item[G.callbacks]?.S ?? '{}') as {
      shardTotals?: number[];
      onComplete?: CallbackTarget;
      onSuccess?: CallbackTarget;
    };
    const definition: GroupDefinition = {
      groupId,
      total: num(item[G.total]),
      shards: num(item[G.shards]),
      shardTotals: extra.shardTotals ?? [],
      createdAt: item[G.createdAt]?.S ?? '',
      onComplete: extra.onComplete,
      onSuccess: extra.onSuccess,
      definitionHash: item[G.definitionHash]?.S ?? '',
    };
    // Bounded: a long-lived consumer sees many groups; a dropped one is read again.
    if (this.definitions.size >= MAX_CACHED_DEFINITIONS) this.definitions.clear();
    this.definitions.set(groupId, definition);
    return definition;
  }

  private async getItem(id: string, projection?: readonly string[]): Promise<Item | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { [A.jobId]: { S: id } },
        ConsistentRead: true,
        ...projectionOf(projection),
      }),
    );
    return out.Item as Item | undefined;
  }

  private expiresAt(now: number): number {
    return Math.floor(now / 1000) + this.ttlSeconds;
  }
}

/** A read's ProjectionExpression over `names` (each through a `#p<n>` placeholder); {} for the whole item. */
function projectionOf(names: readonly string[] | undefined) {
  if (names === undefined) return {};
  return {
    ProjectionExpression: names.map((_, j) => `#p${j}`).join(', '),
    ExpressionAttributeNames: Object.fromEntries(names.map((name, j) => [`#p${j}`, name])),
  };
}

function num(value: { N?: string } | undefined): number {
  return value?.N === undefined ? 0 : Number(value.N);
}

/** A shard's counts: positions in `succeeded`, job ids in `dead` and `cancelled`. */
function countShard(item: Item | undefined): {
  finished: number;
  succeeded: number;
  dead: number;
  cancelled: number;
} {
  const succeeded = item?.[G.succeeded]?.NS?.length ?? 0;
  const dead = item?.[G.dead]?.SS?.length ?? 0;
  const cancelled = item?.[G.cancelled]?.SS?.length ?? 0;
  return { finished: succeeded + dead + cancelled, succeeded, dead, cancelled };
}

function sumShards(shards: readonly Item[]): {
  succeeded: number;
  dead: number;
  cancelled: number;
  failedJobIds: string[];
} {
  let succeeded = 0;
  let dead = 0;
  let cancelled = 0;
  const failedJobIds: string[] = [];
  for (const s of shards) {
    const c = countShard(s);
    succeeded += c.succeeded;
    dead += c.dead;
    cancelled += c.cancelled;
    failedJobIds.push(...(s[G.dead]?.SS ?? []), ...(s[G.cancelled]?.SS ?? []));
  }
  return { succeeded, dead, cancelled, failedJobIds: failedJobIds.sort() };
}
