/**
 * Chains (`enqueueChain`): jobs run one after another, each step's result passed to the next. The
 * chain item `~chain:<id>` records where the chain is; every step is a keyed job whose id derives
 * from the chain id and its position, so a step that succeeds twice (a duplicate delivery, a
 * redelivery after a crash) enqueues its successor once, and the claim runs it once. A step that
 * ends DEAD or CANCELLED stops the chain: the item says FAILED, with the step and its error.
 */
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { JobChainStatus } from '../client/types';
import { LEDGER_ATTR as A, CHAIN_ITEM_PREFIX, type ChainLink, type ChainStep } from '../shared/contract';
import { createEnvelope, jobIdForKey } from '../shared/envelope';
import type { Item } from './codec';
import type { SendCallback } from './group-store';
import type { Ledger } from './ledger';

export const CHAIN_ATTR = {
  kind: 'kind',
  total: 'total',
  steps: 'steps',
  state: 'state',
  current: 'current',
  createdAt: 'createdAt',
  finishedAt: 'finishedAt',
  failedIndex: 'failedIndex',
  failedJobId: 'failedJobId',
  failedStatus: 'failedStatus',
  failedError: 'failedError',
} as const;
const C = CHAIN_ATTR;

export type ChainState = JobChainStatus['state'];

/** A chain as its item records it: JobChainStatus without the steps' statuses (those are the step jobs'). */
export type ChainRecord = Omit<JobChainStatus, 'steps'> & {
  readonly steps: readonly Omit<JobChainStatus['steps'][number], 'status'>[];
};

export function chainItemId(chainId: string): string {
  return `${CHAIN_ITEM_PREFIX}${chainId}`;
}

export function chainStepKey(chainId: string, index: number): string {
  return `chain:${chainId}:${index}`;
}

/** A step's job id: the same for every producer or consumer that names this step. */
export function chainStepJobId(chainId: string, index: number, type: string): string {
  return jobIdForKey(type, chainStepKey(chainId, index));
}

export class ChainStore {
  constructor(
    private readonly o: {
      readonly client: DynamoDBClient;
      readonly tableName: string;
      readonly ledger: Ledger;
      readonly ttlSeconds: number;
      readonly send: SendCallback;
      readonly now?: () => number;
    },
  ) {}

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  /** Writes the chain item. `exists` when a chain with this id is there already (a retried enqueueChain). */
  async create(
    chainId: string,
    steps: readonly { readonly type: string; readonly lane: string }[],
  ): Promise<'created' | 'exists'> {
    const now = this.now();
    try {
      await this.o.client.send(
        new PutItemCommand({
          TableName: this.o.tableName,
          Item: {
            [A.jobId]: { S: chainItemId(chainId) },
            [C.kind]: { S: 'chain' },
            [C.total]: { N: String(steps.length) },
            [C.steps]: { S: JSON.stringify(steps.map((s) => [s.type, s.lane])) },
            [C.state]: { S: 'RUNNING' },
            [C.current]: { N: '0' },
            [C.createdAt]: { S: new Date(now).toISOString() },
            [A.updatedAt]: { S: new Date(now).toISOString() },
            [A.expiresAt]: { N: String(this.expiresAt(now)) },
          },
          ConditionExpression: 'attribute_not_exists(#jobId)',
          ExpressionAttributeNames: { '#jobId': A.jobId },
        }),
      );
      return 'created';
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return 'exists';
    }
  }

  /**
   * Enqueues step `link.index` of a chain with `input` (the result of the step before) unless it was
   * enqueued already: a keyed ledger write, then the send. A step found still ENQUEUED is sent again
   * (the one who wrote it may have died before sending; the claim runs the id once).
   */
  async enqueueStep(
    chainId: string,
    index: number,
    step: ChainStep,
    next: readonly ChainStep[],
    input: unknown,
    correlationId?: string,
  ): Promise<string> {
    const now = this.now();
    const jobId = chainStepJobId(chainId, index, step.type);
    const outcome = await this.o.ledger.enqueue({
      jobId,
      type: step.type,
      lane: step.lane,
      enqueuedAt: new Date(now).toISOString(),
      keyUntil: Math.floor(now / 1000) + this.o.ttlSeconds,
      resendAfter: now,
      checkPayload: false,
      tenant: step.tenant,
    });
    if (outcome.kind === 'duplicate') return jobId;
    const chain: ChainLink = { id: chainId, index, next, ...(input === undefined ? {} : { input }) };
    const envelope = {
      ...createEnvelope({
        id: jobId,
        type: step.type,
        payload: step.payload,
        key: chainStepKey(chainId, index),
        enqueuedAt: new Date(now),
        correlationId,
        tenant: step.tenant,
      }),
      chain,
    };
    await this.o.send({
      queueUrl: step.queueUrl,
      fifo: step.fifo,
      body: JSON.stringify(envelope),
      ...(step.fifo
        ? { messageGroupId: step.tenant ?? chainId, deduplicationId: jobId }
        : step.tenant === undefined
          ? {}
          : { messageGroupId: step.tenant }),
    });
    return jobId;
  }

  /** Step `index` succeeded: the chain moves on (or, after its last step, SUCCEEDED). */
  async advance(chainId: string, index: number, last: boolean): Promise<void> {
    const now = this.now();
    await this.update(
      chainId,
      last
        ? 'SET #state = :succeeded, #current = :next, #finishedAt = :now, #updatedAt = :now, #expiresAt = :expiresAt'
        : 'SET #current = :next, #updatedAt = :now, #expiresAt = :expiresAt',
      // Only forward, and never over FAILED: a late duplicate of an earlier step changes nothing.
      '#state = :running AND #current <= :index',
      {
        ':next': { N: String(index + 1) },
        ':index': { N: String(index) },
        ':now': { S: new Date(now).toISOString() },
        ':expiresAt': { N: String(this.expiresAt(now)) },
        ...(last ? { ':succeeded': { S: 'SUCCEEDED' } } : {}),
      },
    );
  }

  /** Step `index` ended DEAD or CANCELLED: the chain stops there. */
  async stop(
    chainId: string,
    index: number,
    jobId: string,
    status: 'DEAD' | 'CANCELLED',
    error?: string,
  ): Promise<void> {
    const now = this.now();
    await this.update(
      chainId,
      'SET #state = :failed, #failedIndex = :index, #failedJobId = :jobId, #failedStatus = :status, #finishedAt = :now, #updatedAt = :now' +
        (error === undefined ? '' : ', #failedError = :error'),
      // Not for a step the chain has moved past (a stale outcome of an earlier step).
      '#state = :running AND #current <= :index',
      {
        ':failed': { S: 'FAILED' },
        ':index': { N: String(index) },
        ':jobId': { S: jobId },
        ':status': { S: status },
        ':now': { S: new Date(now).toISOString() },
        ...(error === undefined ? {} : { ':error': { S: error.slice(0, 300) } }),
      },
    );
  }

  async get(chainId: string): Promise<ChainRecord | undefined> {
    const out = await this.o.client.send(
      new GetItemCommand({
        TableName: this.o.tableName,
        Key: { [A.jobId]: { S: chainItemId(chainId) } },
        ConsistentRead: true,
      }),
    );
    const item = out.Item as Item | undefined;
    if (item === undefined || item[C.kind]?.S !== 'chain') return undefined;
    const steps = (JSON.parse(item[C.steps]?.S ?? '[]') as [string, string][]).map(([type, lane], index) => ({
      index,
      type,
      lane,
      jobId: chainStepJobId(chainId, index, type),
    }));
    const failedIndex = item[C.failedIndex]?.N;
    return {
      chainId,
      state: (item[C.state]?.S ?? 'RUNNING') as ChainState,
      total: Number(item[C.total]?.N ?? steps.length),
      current: Number(item[C.current]?.N ?? 0),
      createdAt: item[C.createdAt]?.S,
      finishedAt: item[C.finishedAt]?.S,
      steps,
      ...(failedIndex === undefined
        ? {}
        : {
            failed: {
              index: Number(failedIndex),
              jobId: item[C.failedJobId]?.S ?? '',
              status: item[C.failedStatus]?.S ?? '',
              error: item[C.failedError]?.S,
            },
          }),
    };
  }

  private async update(
    chainId: string,
    expression: string,
    condition: string,
    values: Record<string, { S: string } | { N: string }>,
  ): Promise<void> {
    const names: Record<string, string> = {};
    for (const m of `${expression} ${condition}`.matchAll(/#(\w+)/g)) {
      names[`#${m[1]}`] = m[1] === 'updatedAt' ? A.updatedAt : ((C as Record<string, string>)[m[1]] ?? m[1]);
    }
    try {
      await this.o.client.send(
        new UpdateItemCommand({
          TableName: this.o.tableName,
          Key: { [A.jobId]: { S: chainItemId(chainId) } },
          UpdateExpression: expression,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ...values, ':running': { S: 'RUNNING' } },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  private expiresAt(now: number): number {
    return Math.floor(now / 1000) + this.o.ttlSeconds;
  }
}
