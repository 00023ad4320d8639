/**
 * Groups and chains against a real DynamoDB engine (DynamoDB Local): producers and consumers with
 * real ledger writes and transactions, SQS mocked so every message sent can be delivered by hand:
 * twice, concurrently, after a simulated crash. What must hold: every member counted once, each
 * callback run once (counted by its side effect), the chain's steps run once each, in order, with
 * the result passed along, and a failed step stops it.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  ChangeMessageVisibilityCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { z } from 'zod';
import { JobClient } from '../../../lambdas/client';
import { createConsumerHandler } from '../../../lambdas/consumer';
import { groupSummarySchema } from '../../../lambdas/jobs';
import { GroupStore } from '../../../lambdas/ledger/group-store';
import { Ledger } from '../../../lambdas/ledger/ledger';
import { defineJob, defineRegistry } from '../../../lambdas/registry';
import { PermanentJobError } from '../../../lambdas/shared/errors';
import { testClientConfig } from './support/client-config';
import { consumerEnv, DLQ_URL, lambdaContext, quietTelemetry, record } from './support/fixtures';
import { createLedgerTable } from './support/ledger-table';

const endpoint = inject('dynamodbEndpoint') ?? process.env.DYNAMODB_ENDPOINT;
const newClient = () =>
  new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
const sqs = mockClient(SQSClient);
const tableName = `workflows-${Date.now()}`;

/** Side effects, counted per job id: what "ran exactly once" is measured by. */
const effects = new Map<string, number>();
const summaries: z.infer<typeof groupSummarySchema>[] = [];
const effect = (id: string) => effects.set(id, (effects.get(id) ?? 0) + 1);

const work = defineJob({
  type: 'work',
  schema: z.object({ n: z.number(), fail: z.boolean().optional() }),
  handler: async (payload, ctx) => {
    effect(ctx.jobId);
    if (payload.fail) throw new PermanentJobError(`member ${payload.n} failed`);
    return { n: payload.n };
  },
});
const summary = defineJob({
  type: 'summary',
  schema: z.object({ label: z.string(), group: groupSummarySchema }),
  handler: async (payload, ctx) => {
    effect(ctx.jobId);
    summaries.push(payload.group);
  },
});
const step = defineJob({
  type: 'step',
  schema: z.object({ add: z.number(), fail: z.boolean().optional() }),
  handler: async (payload, ctx) => {
    effect(ctx.jobId);
    if (payload.fail) throw new PermanentJobError('step refused');
    const before = (ctx.chain?.input as { total?: number } | undefined)?.total ?? 0;
    return { total: before + payload.add, index: ctx.chain?.index };
  },
});
const registry = defineRegistry([work, summary, step]);
/** Members of the big group: over 2 × GROUP_LIMITS.membersPerShard, so it counts on 3 shards. */
const TOTAL = 201;

/** Every message sent (single and batch), in order, as SQS records to deliver by hand. */
let sent: { body: string; queueUrl: string }[] = [];
let messageSeq = 0;

function asRecord(body: string, receiveCount = 1): SQSRecord {
  return record(`m-${++messageSeq}`, body, { receiveCount });
}

function consumer() {
  const t = quietTelemetry();
  return createConsumerHandler(registry, {
    env: consumerEnv({ JOBS_LEDGER_TABLE: tableName, JOBS_MAX_ATTEMPTS: '1' }),
    dynamodb: newClient(),
    logger: t.logger,
    metrics: t.metrics,
    progressIntervalMs: 60_000,
  });
}

/**
 * Delivers `bodies` in batches of 10 through `handler`, 4 batches at a time (as Lambda runs
 * several invocations at once); returns the bodies handed back (batch item failures).
 */
async function deliver(handler: ReturnType<typeof consumer>, bodies: readonly string[]): Promise<string[]> {
  const failed: string[] = [];
  const batches: string[][] = [];
  for (let i = 0; i < bodies.length; i += 10) batches.push(bodies.slice(i, i + 10));
  const run = async () => {
    for (let batch = batches.shift(); batch !== undefined; batch = batches.shift()) {
      const records = batch.map((b) => asRecord(b));
      const out = await handler({ Records: records }, lambdaContext());
      for (const f of out.batchItemFailures) {
        failed.push(records.find((r) => r.messageId === f.itemIdentifier)?.body ?? '');
      }
    }
  };
  await Promise.all([run(), run(), run(), run()]);
  return failed;
}

/** Delivers, then redelivers what was handed back (a deferral behind another's lease) until none is. */
async function deliverUntilDone(
  handler: ReturnType<typeof consumer>,
  bodies: readonly string[],
): Promise<void> {
  let pending = await deliver(handler, bodies);
  for (let round = 0; pending.length > 0; round++) {
    if (round > 10)
      throw new Error(`${pending.length} messages still handed back after ${round} redeliveries`);
    pending = await deliver(handler, pending);
  }
}

/** Bodies sent to lanes (not to the DLQ) of one job type. */
function sentOfType(type: string): string[] {
  return lanes()
    .map((s) => s.body)
    .filter((b) => (JSON.parse(b) as { type: string }).type === type);
}

/** What was sent to the lanes: a DEAD job's copy in the DLQ is not delivered again. */
function lanes(): { body: string; queueUrl: string }[] {
  return sent.filter((s) => s.queueUrl !== DLQ_URL);
}

const client = () =>
  new JobClient(testClientConfig({ tableName }), { registry, dynamodb: newClient(), sqs: new SQSClient({}) });

beforeAll(async () => {
  await createLedgerTable(newClient(), tableName);
});

beforeEach(() => {
  sqs.reset();
  sent = [];
  effects.clear();
  summaries.length = 0;
  sqs.on(SendMessageCommand).callsFake((input: { QueueUrl: string; MessageBody: string }) => {
    sent.push({ body: input.MessageBody, queueUrl: input.QueueUrl });
    return { MessageId: `s-${sent.length}` };
  });
  sqs
    .on(SendMessageBatchCommand)
    .callsFake((input: { QueueUrl: string; Entries: { Id: string; MessageBody: string }[] }) => {
      for (const e of input.Entries) sent.push({ body: e.MessageBody, queueUrl: input.QueueUrl });
      return {
        Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `b-${e.Id}`, MD5OfMessageBody: '' })),
        Failed: [],
      };
    });
  sqs.on(ChangeMessageVisibilityCommand).resolves({});
});

afterEach(() => vi.restoreAllMocks());

describe('groups', () => {
  it('counts 201 members on 3 shards once each under duplicate and concurrent deliveries, and runs each callback once', async () => {
    // Prepare: 1,100 members (3 counter shards), 4 of them fail for good.
    const failing = new Set([3, 100, 150, TOTAL - 1]);
    const members = Array.from({ length: TOTAL }, (_, n) => ({
      type: 'work' as const,
      payload: { n, ...(failing.has(n) ? { fail: true } : {}) },
    }));
    const group = await client().enqueueGroup(members, {
      groupId: 'g-dup',
      onComplete: { type: 'summary', payload: { label: 'done' } },
      onSuccess: { type: 'summary', payload: { label: 'all ok' } },
    });
    const memberBodies = sentOfType('work');
    expect(memberBodies).toHaveLength(TOTAL);

    // Act: every member delivered twice, the copies to two consumers at once (a copy that finds
    // the other running is handed back and redelivered, as SQS would).
    const [a, b] = [consumer(), consumer()];
    await Promise.all([deliverUntilDone(a, memberBodies), deliverUntilDone(b, [...memberBodies].reverse())]);
    // Every callback message sent, delivered twice as well.
    const callbacks = sentOfType('summary');
    await Promise.all([deliverUntilDone(a, callbacks), deliverUntilDone(b, callbacks)]);

    // Assess: each member that succeeded ran once (a DEAD one may run again on a duplicate: DEAD
    // is claimable, for DLQ redrives); the group counted each member once; onComplete ran once,
    // onSuccess never.
    group.jobIds.forEach((id, n) => {
      if (!failing.has(n)) expect(effects.get(id)).toBe(1);
    });
    const status = await client().getGroup('g-dup');
    expect(status).toMatchObject({
      total: TOTAL,
      pending: 0,
      succeeded: TOTAL - 4,
      dead: 4,
      cancelled: 0,
      state: 'COMPLETE',
    });
    expect(new Set(status?.failedJobIds)).toEqual(new Set([...failing].map((n) => group.jobIds[n])));
    expect(callbacks.length).toBeGreaterThanOrEqual(1);
    expect(effects.get(group.callbacks.onComplete as string)).toBe(1);
    expect(effects.has(group.callbacks.onSuccess as string)).toBe(false);
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({
      groupId: 'g-dup',
      total: TOTAL,
      succeeded: TOTAL - 4,
      dead: 4,
      cancelled: 0,
    });
  }, 120_000);

  it('a consumer that dies between a member’s final write and its count leaves the count and the callback to the redelivery', async () => {
    // Prepare: a group of 3; the last member's count "crashes" (throws, as a process death would
    // leave it: its SUCCEEDED written, not counted, its message not deleted).
    const group = await client().enqueueGroup(
      [0, 1, 2].map((n) => ({ type: 'work' as const, payload: { n } })),
      { groupId: 'g-crash', onSuccess: { type: 'summary', payload: { label: 'crash' } } },
    );
    const bodies = sentOfType('work');
    const handler = consumer();
    await deliver(handler, bodies.slice(0, 2));
    const settle = vi.spyOn(GroupStore.prototype, 'settle').mockRejectedValueOnce(new Error('process died'));
    // The crash: the delivery fails after the job's write, and retries inside the invocation are
    // exhausted too (every settle attempt of this invocation throws).
    settle.mockRejectedValueOnce(new Error('process died'));
    settle.mockRejectedValueOnce(new Error('process died'));
    settle.mockRejectedValueOnce(new Error('process died'));
    const kept = await deliver(handler, bodies.slice(2));
    expect(kept).toEqual(bodies.slice(2));
    // The job's outcome is written; its count is not (the crash came before it).
    expect((await client().getJob(group.jobIds[2]))?.status).toBe('SUCCEEDED');
    expect(await client().getGroup('g-crash')).toMatchObject({ succeeded: 2, pending: 1, state: 'RUNNING' });
    expect(sentOfType('summary')).toEqual([]);

    // Act: the message comes back; the job is not run again, the group settles.
    settle.mockRestore();
    await deliver(handler, kept);
    await deliver(handler, sentOfType('summary'));

    // Assess
    expect(effects.get(group.jobIds[2])).toBe(1);
    expect(await client().getGroup('g-crash')).toMatchObject({ succeeded: 3, state: 'COMPLETE' });
    expect(effects.get(group.callbacks.onSuccess as string)).toBe(1);
  }, 60_000);

  it('repeating enqueueGroup with the same id sends only unsent members, and refuses other members', async () => {
    const jobs = [0, 1].map((n) => ({ type: 'work' as const, payload: { n } }));
    const first = await client().enqueueGroup(jobs, { groupId: 'g-again' });
    await deliver(consumer(), sentOfType('work'));
    sent = [];

    const again = await client().enqueueGroup(jobs, { groupId: 'g-again' });

    expect(again).toMatchObject({ status: 'exists', jobIds: first.jobIds });
    expect(sentOfType('work')).toEqual([]);
    await expect(
      client().enqueueGroup([{ type: 'work', payload: { n: 9 } }], { groupId: 'g-again' }),
    ).rejects.toThrow(/groupId 'g-again'.*a group id not used yet, or the same members and callbacks/);
  });

  it('a stale DEAD or CANCELLED of a member counted SUCCEEDED changes no count; a redriven DEAD one that is cancelled moves', async () => {
    // Prepare: a group of 2, counted directly through the store the consumer uses.
    const group = await client().enqueueGroup(
      [0, 1].map((n) => ({ type: 'work' as const, payload: { n } })),
      { groupId: 'g-stale' },
    );
    const store = new GroupStore({
      client: newClient(),
      tableName,
      ledger: new Ledger({ client: newClient(), tableName, ttlSeconds: 3600 }),
      ttlSeconds: 3600,
      send: async () => undefined,
    });
    const member = (index: number) => ({ id: 'g-stale', shard: 0, index });

    // Act: member 0 succeeded, then a run that had lost its lease reports DEAD; member 1 died,
    // was redriven, and was cancelled while it waited for a retry.
    await store.settle(member(0), 'SUCCEEDED', group.jobIds[0]);
    await store.settle(member(0), 'DEAD', group.jobIds[0]);
    await store.settle(member(1), 'DEAD', group.jobIds[1]);
    await store.settle(member(1), 'CANCELLED', group.jobIds[1]);

    // Assess: each member counted once, by its last real outcome.
    expect(await client().getGroup('g-stale')).toMatchObject({
      total: 2,
      succeeded: 1,
      dead: 0,
      cancelled: 1,
      pending: 0,
      state: 'COMPLETE',
      failedJobIds: [group.jobIds[1]],
    });
  });

  it('refuses members with their own key or delay, naming the member and the option', async () => {
    await expect(
      client().enqueueGroup([
        { type: 'work', payload: { n: 0 } },
        { type: 'work', payload: { n: 1 }, options: { idempotencyKey: 'k' } },
      ]),
    ).rejects.toThrow(
      /enqueueGroup\(jobs\[1\]\.options\.idempotencyKey\).*unset.*got 'k'|jobs\[1\]\.options\.idempotencyKey/,
    );
    await expect(client().enqueueGroup([])).rejects.toThrow(/an array of 1 to 100000 jobs/);
  });
});

describe('chains', () => {
  it('runs each step once, in order, passing each result on, even when a step is delivered twice', async () => {
    const chain = await client().enqueueChain(
      [
        { type: 'step', payload: { add: 1 } },
        { type: 'step', payload: { add: 10 } },
        { type: 'step', payload: { add: 100 } },
      ],
      { chainId: 'c-ok' },
    );
    const handler = consumer();
    // Deliver every message sent so far, twice, until nothing new is sent.
    for (let delivered = 0; delivered < lanes().length; ) {
      const batch = lanes()
        .slice(delivered)
        .map((s) => s.body);
      delivered = lanes().length;
      await deliver(handler, [...batch, ...batch]);
    }

    const status = await client().getChain('c-ok');
    expect(status).toMatchObject({ state: 'SUCCEEDED', total: 3, current: 3 });
    expect(status?.steps.map((s) => s.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    for (const id of chain.jobIds) expect(effects.get(id)).toBe(1);
    expect((await client().getJob(chain.jobIds[2]))?.result).toEqual({ total: 111, index: 2 });
  });

  it('stops at a step that fails, and says which', async () => {
    const chain = await client().enqueueChain(
      [
        { type: 'step', payload: { add: 1 } },
        { type: 'step', payload: { add: 2, fail: true } },
        { type: 'step', payload: { add: 3 } },
      ],
      { chainId: 'c-stop' },
    );
    const handler = consumer();
    for (let delivered = 0; delivered < lanes().length; ) {
      const batch = lanes()
        .slice(delivered)
        .map((s) => s.body);
      delivered = lanes().length;
      await deliver(handler, batch);
    }

    const status = await client().getChain('c-stop');
    expect(status).toMatchObject({
      state: 'FAILED',
      current: 1,
      failed: { index: 1, jobId: chain.jobIds[1], status: 'DEAD' },
    });
    expect(status?.failed?.error).toMatch(/step refused/);
    expect(status?.steps.map((s) => s.status)).toEqual(['SUCCEEDED', 'DEAD', undefined]);
    expect(effects.has(chain.jobIds[2])).toBe(false);
  });
});
