/**
 * Job control against a real DynamoDB engine (DynamoDB Local, started by the `ledger` project's
 * globalSetup): the conditional writes of cancel, debounce and limits, and what many consumers
 * and producers racing on one item end in. SQS is mocked so every send and visibility change is
 * visible; every ledger write is real.
 */
import { performance } from 'node:perf_hooks';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { z } from 'zod';
import { JobClient } from '../../../lambdas/client';
import { createConsumerHandler } from '../../../lambdas/consumer';
import { type ClaimOutcome, Ledger } from '../../../lambdas/ledger/ledger';
import { limitItemId } from '../../../lambdas/ledger/limits';
import { defineJob, defineRegistry } from '../../../lambdas/registry';
import type { JobRegistry } from '../../../lambdas/registry/types';
import { testClientConfig, testLane } from './support/client-config';
import { consumerEnv, envelopeBody, lambdaContext, quietTelemetry, record } from './support/fixtures';
import { createLedgerTable } from './support/ledger-table';

const endpoint = inject('dynamodbEndpoint') ?? process.env.DYNAMODB_ENDPOINT;
const newClient = () =>
  new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
const dynamodb = newClient();
const sqs = mockClient(SQSClient);
const tableName = `job-control-${Date.now()}`;
const T0 = Date.parse('2025-06-01T12:00:00.000Z');
let now = T0;
const ledger = new Ledger({ client: dynamodb, tableName, ttlSeconds: 3600, now: () => now });
/** Racers: each its own Ledger and its own client (own connections), like separate Lambdas. */
const racers = Array.from(
  { length: 4 },
  () => new Ledger({ client: newClient(), tableName, ttlSeconds: 3600, now: () => now }),
);
let seq = 0;
let jobId = '';

const claimInput = (owner: string, leaseMs = 60_000, id = jobId) => ({
  jobId: id,
  type: 'report',
  lane: 'default',
  enqueuedAt: '2025-06-01T11:59:00.000Z',
  owner,
  leaseMs,
});
const keyedInput = (id = jobId) => ({
  jobId: id,
  type: 'report',
  lane: 'default',
  enqueuedAt: '2025-06-01T11:59:00.000Z',
  payloadHash: 'hash-1',
  keyUntil: now / 1000 + 3600,
  resendAfter: now + 900_000,
});
const debounceInput = (id = jobId) => ({
  jobId: id,
  type: 'report',
  lane: 'default',
  enqueuedAt: '2025-06-01T12:00:00.000Z',
  keepUntil: now / 1000 + 60,
});

async function rawItem(id = jobId) {
  const out = await dynamodb.send(
    new GetItemCommand({ TableName: tableName, Key: { jobId: { S: id } }, ConsistentRead: true }),
  );
  return out.Item;
}

/** A consumer Lambda (its own DynamoDB client) whose outcome log lines the test can read. */
function consumerOf(registry: JobRegistry, clock?: () => number) {
  const t = quietTelemetry();
  const handler = createConsumerHandler(registry, {
    env: consumerEnv({ JOBS_LEDGER_TABLE: tableName }),
    dynamodb: newClient(),
    logger: t.logger,
    metrics: t.metrics,
    now: clock,
    progressIntervalMs: 60_000,
  });
  // Outcomes are logged at info (acknowledged, LIMITED), warn (RETRY, DEFERRED) or error (DEAD).
  const warn = vi.spyOn(t.logger, 'warn');
  const error = vi.spyOn(t.logger, 'error');
  const lines = () =>
    [...t.outcomes.mock.calls, ...warn.mock.calls, ...error.mock.calls]
      .filter((c) => c[0] === 'job outcome')
      .map((c) => c[1] as { jobId: string; status: string; retryAfterSeconds?: number; attempt: number });
  return { handler, lines };
}

/** The largest number of intervals open at once (an end at the same instant as a start does not overlap). */
function maxOverlap(intervals: readonly { start: number; end: number }[]): number {
  const events = intervals
    .flatMap((i): [number, number][] => [
      [i.start, 1],
      [i.end, -1],
    ])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let max = 0;
  for (const [, delta] of events) {
    open += delta;
    max = Math.max(max, open);
  }
  return max;
}

beforeAll(() => createLedgerTable(dynamodb, tableName));

beforeEach(() => {
  jobId = `jc-${++seq}`;
  now = T0;
  sqs.reset();
  sqs.on(SendMessageCommand).resolves({ MessageId: 'm' });
  sqs.on(ChangeMessageVisibilityCommand).resolves({});
});

describe('Ledger.cancel: every state', () => {
  it('absent → cancelled: a CANCELLED tombstone with TTL and attempts 0, and no previous record', async () => {
    // Act
    const outcome = await ledger.cancel(jobId);

    // Assess
    expect(outcome).toEqual({ kind: 'cancelled', previous: undefined });
    expect(await rawItem()).toEqual({
      jobId: { S: jobId },
      status: { S: 'CANCELLED' },
      attempts: { N: '0' },
      cancelRequestedAt: { S: '2025-06-01T12:00:00.000Z' },
      finishedAt: { S: '2025-06-01T12:00:00.000Z' },
      updatedAt: { S: '2025-06-01T12:00:00.000Z' },
      expiresAt: { N: String(T0 / 1000 + 3600) },
      history: { L: [{ S: `C@${T0}` }] },
    });
  });

  it('ENQUEUED (keyed) → cancelled, reporting the ENQUEUED record it replaced; the key stays', async () => {
    // Prepare
    await ledger.enqueue(keyedInput());
    now += 5_000;

    // Act
    const outcome = await ledger.cancel(jobId);

    // Assess
    expect(outcome).toMatchObject({ kind: 'cancelled', previous: { status: 'ENQUEUED', attempts: 0 } });
    expect(await ledger.get(jobId)).toMatchObject({
      status: 'CANCELLED',
      attempts: 0,
      payloadHash: 'hash-1',
      keyUntil: T0 / 1000 + 3600,
      cancelRequestedAt: '2025-06-01T12:00:05.000Z',
      finishedAt: '2025-06-01T12:00:05.000Z',
    });
  });

  it('FAILED (waiting for a retry) → cancelled; attempts kept, no lease', async () => {
    // Prepare
    await ledger.claim(claimInput('owner-a'));
    await ledger.fail({ jobId, owner: 'owner-a', status: 'FAILED', error: new Error('boom') });

    // Act
    const outcome = await ledger.cancel(jobId);

    // Assess
    expect(outcome).toMatchObject({ kind: 'cancelled', previous: { status: 'FAILED', attempts: 1 } });
    const item = await ledger.get(jobId);
    expect(item).toMatchObject({ status: 'CANCELLED', attempts: 1, lastError: 'Error: boom' });
    expect(item?.leaseOwner).toBeUndefined();
  });

  it("RUNNING → cancelling: status and lease untouched, cancelRequestedAt set; the owner's fail(CANCELLED) ends it", async () => {
    // Prepare
    await ledger.claim(claimInput('owner-a', 60_000));
    now += 1_000;

    // Act
    const outcome = await ledger.cancel(jobId);
    const during = await ledger.get(jobId);
    const seenByHeartbeat = await ledger.cancelRequested(jobId);
    now += 1_000;
    const ended = await ledger.fail({
      jobId,
      owner: 'owner-a',
      status: 'CANCELLED',
      error: new Error('stop'),
    });

    // Assess
    expect(outcome).toMatchObject({
      kind: 'cancelling',
      record: { status: 'RUNNING', leaseOwner: 'owner-a' },
    });
    expect(during).toMatchObject({
      status: 'RUNNING',
      attempts: 1,
      leaseOwner: 'owner-a',
      leaseUntil: T0 + 60_000,
      cancelRequestedAt: '2025-06-01T12:00:01.000Z',
    });
    expect(seenByHeartbeat).toBe(true);
    expect(ended).toBe(true);
    const item = await ledger.get(jobId);
    expect(item).toMatchObject({ status: 'CANCELLED', attempts: 1, finishedAt: '2025-06-01T12:00:02.000Z' });
    expect(item?.leaseOwner).toBeUndefined();
  });

  it.each([
    [
      'SUCCEEDED',
      async () => {
        await ledger.claim(claimInput('owner-a'));
        await ledger.complete({ jobId, owner: 'owner-a', result: { ok: 1 } });
      },
    ],
    [
      'DEAD',
      async () => {
        await ledger.claim(claimInput('owner-a'));
        await ledger.fail({ jobId, owner: 'owner-a', status: 'DEAD', error: new Error('never') });
      },
    ],
    ['CANCELLED', () => ledger.cancel(jobId)],
  ])('%s → finished, the item byte for byte unchanged', async (status, prepare) => {
    // Prepare
    await prepare();
    const before = await rawItem();
    now += 30_000;

    // Act
    const outcome = await ledger.cancel(jobId);

    // Assess
    expect(outcome).toMatchObject({ kind: 'finished', record: { status } });
    expect(await rawItem()).toEqual(before);
    expect(await ledger.cancelRequested(jobId)).toBe(status === 'CANCELLED');
  });
});

describe('claims after a cancel', () => {
  it('a CANCELLED job is not claimed (cancelled), and the item is unchanged', async () => {
    // Prepare
    await ledger.cancel(jobId);
    const before = await rawItem();

    // Act
    const claim = await ledger.claim(claimInput('owner-a'));

    // Assess
    expect(claim).toMatchObject({ kind: 'cancelled', record: { status: 'CANCELLED' } });
    expect(await rawItem()).toEqual(before);
  });

  it('RUNNING with a cancel request whose lease ended → cancelled and CANCELLED, no takeover, attempts unchanged', async () => {
    // Prepare: the owner died after the cancel request
    await ledger.claim(claimInput('owner-a', 10_000));
    await ledger.cancel(jobId);
    now += 10_001;

    // Act
    const claim = await ledger.claim(claimInput('owner-b'));

    // Assess
    expect(claim).toMatchObject({ kind: 'cancelled', record: { status: 'RUNNING', leaseOwner: 'owner-a' } });
    const item = await ledger.get(jobId);
    expect(item).toMatchObject({ status: 'CANCELLED', attempts: 1, finishedAt: '2025-06-01T12:00:10.001Z' });
    expect(item?.leaseOwner).toBeUndefined();
    expect(item?.leaseUntil).toBeUndefined();
    expect(await ledger.complete({ jobId, owner: 'owner-a' })).toBe(false);
  });

  it('RUNNING with a cancel request under a live lease → busy; nothing changes', async () => {
    // Prepare
    await ledger.claim(claimInput('owner-a', 60_000));
    await ledger.cancel(jobId);
    const before = await rawItem();
    now += 20_000;

    // Act
    const claim = await ledger.claim(claimInput('owner-b'));

    // Assess
    expect(claim).toMatchObject({ kind: 'busy', leaseRemainingMs: 40_000 });
    expect(await rawItem()).toEqual(before);
  });

  it('FAILED after a cancel request (the run failed before its consumer saw it) → the next claim is cancelled', async () => {
    // Prepare
    await ledger.claim(claimInput('owner-a'));
    await ledger.cancel(jobId);
    await ledger.fail({ jobId, owner: 'owner-a', status: 'FAILED', error: new Error('flaky') });
    now += 5_000;

    // Act
    const claim = await ledger.claim(claimInput('owner-b'));

    // Assess
    expect(claim).toMatchObject({ kind: 'cancelled', record: { status: 'FAILED' } });
    expect(await ledger.get(jobId)).toMatchObject({ status: 'CANCELLED', attempts: 1 });
  });

  it('keyed enqueue of a CANCELLED job: duplicate without rerun, a fresh ENQUEUED run with it', async () => {
    // Prepare
    await ledger.enqueue(keyedInput());
    await ledger.cancel(jobId);
    now += 1_000;

    // Act
    const again = await ledger.enqueue(keyedInput());
    const rerun = await ledger.enqueue({ ...keyedInput(), rerun: true });
    const claim = await ledger.claim(claimInput('owner-a'));

    // Assess
    expect(again).toMatchObject({ kind: 'duplicate', existing: { status: 'CANCELLED' } });
    expect(rerun).toMatchObject({ kind: 'rerun', previous: { status: 'CANCELLED' } });
    expect(claim).toMatchObject({ kind: 'claimed', attempts: 1, takeover: false });
    expect((await ledger.get(jobId))?.cancelRequestedAt).toBeUndefined();
  });
});

describe('unowned outcomes (optimistic mode) after a cancel', () => {
  it('a FAILED or DEAD outcome leaves CANCELLED as it is; SUCCEEDED (the run finished anyway) is written', async () => {
    // Prepare
    const outcome = (id: string, status: 'FAILED' | 'DEAD' | 'SUCCEEDED') =>
      ledger.recordOutcome({ jobId: id, type: 'report', lane: 'default', status, error: new Error(status) });
    const ids = ['FAILED', 'DEAD', 'SUCCEEDED'].map((status) => `${jobId}-${status}`);
    for (const id of ids) await ledger.cancel(id);
    const before = await rawItem(ids[0]);
    now += 1_000;

    // Act
    const failed = await outcome(ids[0], 'FAILED');
    const dead = await outcome(ids[1], 'DEAD');
    const succeeded = await outcome(ids[2], 'SUCCEEDED');

    // Assess
    expect([failed, dead, succeeded]).toEqual([false, false, true]);
    expect(await rawItem(ids[0])).toEqual(before);
    expect((await ledger.get(ids[1]))?.status).toBe('CANCELLED');
    expect((await ledger.get(ids[2]))?.status).toBe('SUCCEEDED');
  });

  it('consumer: an optimistic job cancelled during a short run that then fails is not run again', async () => {
    // Prepare: the cancel lands while the handler runs (before any cancel check), then it throws
    const runs: string[] = [];
    const registry = defineRegistry([
      defineJob({
        type: 'optimistic-cancelled',
        idempotency: 'optimistic',
        schema: z.object({}),
        handler: async (_payload, ctx) => {
          runs.push(ctx.jobId);
          await ledger.cancel(ctx.jobId);
          throw new Error('flaky');
        },
      }),
    ]);
    const { handler, lines } = consumerOf(registry, () => now);
    const body = envelopeBody(jobId, 'optimistic-cancelled', {});

    // Act
    const first = await handler({ Records: [record('o-1', body)] }, lambdaContext());
    const retry = await handler({ Records: [record('o-2', body, { receiveCount: 2 })] }, lambdaContext());

    // Assess
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: 'o-1' }]);
    expect(retry.batchItemFailures).toEqual([]);
    expect(runs).toEqual([jobId]);
    expect(
      lines()
        .map((l) => l.status)
        .sort(),
    ).toEqual(['CANCELLED', 'RETRY']);
    expect(await ledger.get(jobId)).toMatchObject({ status: 'CANCELLED', attempts: 0 });
  });
});

describe('RACE: cancel against claim', () => {
  it('20 rounds of (cancel ‖ claim) on a fresh ENQUEUED job each end in exactly one consistent state', async () => {
    // Prepare
    const ids = Array.from({ length: 20 }, (_, i) => `${jobId}-r${i}`);
    for (const id of ids) await ledger.enqueue(keyedInput(id));

    // Act: every round concurrently, each side on its own client
    const rounds = await Promise.all(
      ids.map(async (id, i) => {
        const [cancel, claim] = await Promise.all([
          racers[i % 2].cancel(id),
          racers[2 + (i % 2)].claim(claimInput(`owner-${i}`, 60_000, id)),
        ]);
        return { id, i, cancel, claim, item: await ledger.get(id) };
      }),
    );

    // Assess
    let claimWon = 0;
    let cancelWon = 0;
    for (const { i, cancel, claim, item } of rounds) {
      if (claim.kind === 'claimed') {
        claimWon++;
        expect(claim).toMatchObject({ kind: 'claimed', attempts: 1, takeover: false });
        expect(cancel).toMatchObject({ kind: 'cancelling', record: { status: 'RUNNING' } });
        expect(item).toMatchObject({
          status: 'RUNNING',
          attempts: 1,
          leaseOwner: `owner-${i}`,
          cancelRequestedAt: '2025-06-01T12:00:00.000Z',
        });
      } else {
        cancelWon++;
        expect(claim).toMatchObject({ kind: 'cancelled', record: { status: 'CANCELLED' } });
        expect(cancel).toMatchObject({ kind: 'cancelled', previous: { status: 'ENQUEUED' } });
        expect(item).toMatchObject({ status: 'CANCELLED', attempts: 0 });
        expect(item?.leaseOwner).toBeUndefined();
      }
    }
    expect(claimWon + cancelWon).toBe(20);
  });
});

describe('RACE: many consumers against one limit', () => {
  it('concurrency limit 2: 12 jobs on 6 consumers at once run at most 2 at a time; the rest are LIMITED unattempted and run exactly once when redelivered', async () => {
    // Prepare
    const intervals: { jobId: string; start: number; end: number }[] = [];
    const runs: Record<string, number> = {};
    // The admitted runs hold their slots until the test opens the gate: opened once the other ten
    // were refused and two runs started, so what the first delivery admits (and that the two
    // overlap) depends on the limit, not on timing.
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const limited = defineJob({
      type: 'limited',
      schema: z.object({ n: z.number() }),
      concurrency: { limit: 2 },
      handler: async (_payload, ctx) => {
        runs[ctx.jobId] = (runs[ctx.jobId] ?? 0) + 1;
        const start = performance.now();
        await gate;
        intervals.push({ jobId: ctx.jobId, start, end: performance.now() });
      },
    });
    const registry = defineRegistry([limited]);
    const consumers = Array.from({ length: 6 }, () => consumerOf(registry));
    const ids = Array.from({ length: 12 }, (_, i) => `${jobId}-c${i}`);
    const bodies = new Map(ids.map((id, i) => [id, envelopeBody(id, 'limited', { n: i })]));
    const deliver = (pending: readonly string[], receives: number) =>
      Promise.all(
        consumers.map(async ({ handler }, c) => {
          const mine = pending.filter((_, i) => i % consumers.length === c);
          if (mine.length === 0) return [];
          const records: SQSRecord[] = mine.map((id) =>
            record(`${id}-${receives}`, bodies.get(id) as string, { receiveCount: receives }),
          );
          const out = await handler({ Records: records }, lambdaContext());
          return out.batchItemFailures.map((f) => f.itemIdentifier.replace(/-\d+$/, ''));
        }),
      ).then((failed) => failed.flat());

    // Act: the first delivery; each refused job's visibility change shows it was deferred
    const first = deliver(ids, 1);
    const deadline = Date.now() + 60_000;
    const settled = () =>
      sqs.commandCalls(ChangeMessageVisibilityCommand).length >= 10 && Object.keys(runs).length >= 2;
    while (!settled() && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    open();
    const firstFailed = await first;
    const firstLines = consumers.flatMap((c) => c.lines());
    const firstRuns = { ...runs };
    const firstLimitedItems = await Promise.all(firstFailed.map((id) => ledger.get(id)));
    let pending = firstFailed;
    let rounds = 1;
    while (pending.length > 0 && rounds < 12) {
      rounds++;
      pending = await deliver(pending, rounds);
    }

    // Assess: the first delivery admitted exactly 2, the others were deferred without an attempt
    expect(Object.keys(firstRuns)).toHaveLength(2);
    expect(firstFailed).toHaveLength(10);
    const firstLimited = firstLines.filter((l) => l.status === 'LIMITED');
    expect(firstLimited.map((l) => l.jobId).sort()).toEqual([...firstFailed].sort());
    expect(firstLines.filter((l) => l.status === 'SUCCEEDED')).toHaveLength(2);
    for (const line of firstLimited) expect(line.retryAfterSeconds).toBeGreaterThan(0);
    for (const item of firstLimitedItems) expect(item?.attempts ?? 0).toBe(0);
    // ... and every run, over all deliveries, overlapped at most one other
    expect(pending).toEqual([]);
    expect(maxOverlap(intervals)).toBe(2);
    expect(Object.fromEntries(ids.map((id) => [id, runs[id]]))).toEqual(
      Object.fromEntries(ids.map((id) => [id, 1])),
    );
    const items = await Promise.all(ids.map((id) => ledger.get(id)));
    expect(items.map((item) => [item?.status, item?.attempts])).toEqual(Array(12).fill(['SUCCEEDED', 1]));
    // every slot was given back
    const slots = await dynamodb.send(
      new GetItemCommand({
        TableName: tableName,
        Key: { jobId: { S: limitItemId('concurrency', 'limited') } },
        ConsistentRead: true,
      }),
    );
    expect(slots.Item?.holders).toEqual({ M: {} });
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  it('rate limit 5 per 60 s: 15 jobs on 5 consumers at once → exactly 5 run, 10 LIMITED with a positive retry and no attempt', async () => {
    // Prepare
    const runs: Record<string, number> = {};
    const rated = defineJob({
      type: 'rated',
      schema: z.object({ n: z.number() }),
      rateLimit: { limit: 5, perSeconds: 60 },
      handler: async (_payload, ctx) => {
        runs[ctx.jobId] = (runs[ctx.jobId] ?? 0) + 1;
      },
    });
    const registry = defineRegistry([rated]);
    const consumers = Array.from({ length: 5 }, () => consumerOf(registry, () => now));
    const ids = Array.from({ length: 15 }, (_, i) => `${jobId}-r${i}`);

    // Act
    const responses = await Promise.all(
      consumers.map(({ handler }, c) =>
        handler(
          {
            Records: ids
              .filter((_, i) => i % consumers.length === c)
              .map((id) => record(id, envelopeBody(id, 'rated', { n: c }))),
          },
          lambdaContext(),
        ),
      ),
    );

    // Assess
    const lines = consumers.flatMap((c) => c.lines());
    const limitedLines = lines.filter((l) => l.status === 'LIMITED');
    const failed = responses.flatMap((r) => r.batchItemFailures.map((f) => f.itemIdentifier));
    expect(Object.values(runs)).toEqual([1, 1, 1, 1, 1]);
    expect(
      lines
        .filter((l) => l.status === 'SUCCEEDED')
        .map((l) => l.jobId)
        .sort(),
    ).toEqual(Object.keys(runs).sort());
    expect(limitedLines).toHaveLength(10);
    expect(failed.sort()).toEqual(limitedLines.map((l) => l.jobId).sort());
    for (const line of limitedLines) expect(line.retryAfterSeconds).toBeGreaterThan(0);
    const visibility = sqs.commandCalls(ChangeMessageVisibilityCommand).map((c) => c.args[0].input);
    expect(visibility).toHaveLength(10);
    for (const input of visibility) expect(input.VisibilityTimeout).toBeGreaterThan(0);
    const limitedItems = await Promise.all(limitedLines.map((l) => ledger.get(l.jobId)));
    expect(limitedItems).toEqual(Array(10).fill(undefined));
  });
});

describe("debounce 'last' with many producers", () => {
  const claimSeq = (id: string, n: number, by = racers[n % racers.length]) =>
    by.claim({ ...claimInput(`owner-${n}`, 60_000, id), debounceSeq: n });

  it('25 concurrent enqueues number 1..25; of 25 concurrent claims only the 25th runs; a late enqueue is closed', async () => {
    // Act
    const added = await Promise.all(
      Array.from({ length: 25 }, (_, i) => racers[i % racers.length].debounce(debounceInput())),
    );
    const enqueued = await ledger.get(jobId);
    const claims = await Promise.all(Array.from({ length: 25 }, (_, i) => claimSeq(jobId, i + 1)));
    const late = await ledger.debounce(debounceInput());

    // Assess
    expect(added.map((a) => (a.kind === 'added' ? a.seq : 0)).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 25 }, (_, i) => i + 1),
    );
    expect(enqueued).toMatchObject({ status: 'ENQUEUED', attempts: 0, debounce: { seq: 25, failed: [] } });
    const kinds = claims.map((c: ClaimOutcome, i) => `${i + 1}:${c.kind}`);
    expect(kinds.filter((k) => k.endsWith(':claimed'))).toEqual(['25:claimed']);
    expect(kinds.filter((k) => k.endsWith(':superseded'))).toHaveLength(24);
    expect(late).toMatchObject({ kind: 'closed', record: { status: 'RUNNING', leaseOwner: 'owner-25' } });
    expect(await ledger.get(jobId)).toMatchObject({ status: 'RUNNING', attempts: 1, debounce: { seq: 25 } });
  });

  it('the 25th send failed: the 24th runs, concurrently with all the others', async () => {
    // Prepare
    await Promise.all(
      Array.from({ length: 25 }, (_, i) => racers[i % racers.length].debounce(debounceInput())),
    );
    await ledger.debounceSendFailed(jobId, 25);

    // Act
    const claims = await Promise.all(Array.from({ length: 25 }, (_, i) => claimSeq(jobId, i + 1)));

    // Assess
    const kinds = claims.map((c, i) => `${i + 1}:${c.kind}`);
    expect(kinds.filter((k) => k.endsWith(':claimed'))).toEqual(['24:claimed']);
    expect(kinds.filter((k) => k.endsWith(':superseded'))).toHaveLength(24);
    expect(await ledger.get(jobId)).toMatchObject({
      status: 'RUNNING',
      leaseOwner: 'owner-24',
      attempts: 1,
      debounce: { seq: 25, failed: [25] },
    });
  });

  it('the 25th send failed but its message arrives anyway, first: it never runs, the 24th does', async () => {
    // Prepare
    for (let i = 0; i < 25; i++) await ledger.debounce(debounceInput());
    await ledger.debounceSendFailed(jobId, 25);

    // Act
    const failedOne = await claimSeq(jobId, 25);
    const latestSent = await claimSeq(jobId, 24);

    // Assess
    expect(failedOne).toMatchObject({ kind: 'superseded', record: { status: 'ENQUEUED' } });
    expect(latestSent).toMatchObject({ kind: 'claimed', attempts: 1, takeover: false });
    expect(await ledger.get(jobId)).toMatchObject({ status: 'RUNNING', leaseOwner: 'owner-24' });
  });
});

describe('JobClient debounce end to end (producers + consumer on DynamoDB Local)', () => {
  const ran: { jobId: string; payload: { user: string; note: number } }[] = [];
  const payloadSchema = z.object({ user: z.string(), note: z.number() });
  const registry = defineRegistry([
    defineJob({
      type: 'digest-last',
      schema: payloadSchema,
      debounce: { key: (p) => p.user, seconds: 60, keep: 'last' },
      handler: async (payload, ctx) => {
        ran.push({ jobId: ctx.jobId, payload });
      },
    }),
    defineJob({
      type: 'digest-first',
      schema: payloadSchema,
      debounce: { key: (p) => p.user, seconds: 60, keep: 'first' },
      handler: async (payload, ctx) => {
        ran.push({ jobId: ctx.jobId, payload });
      },
    }),
  ]);
  const config = testClientConfig({
    tableName,
    lanes: { default: testLane('default') },
    ledgerTtlSeconds: 86_400,
  });
  /** Producers: each its own JobClient and DynamoDB client. */
  const producers = () =>
    Array.from({ length: 10 }, () =>
      JobClient.fromConfig(config, { registry, dynamodb: newClient(), now: () => now }),
    );
  const sentBodies = () =>
    sqs.commandCalls(SendMessageCommand).map((c) => ({
      input: c.args[0].input,
      envelope: JSON.parse(c.args[0].input.MessageBody as string) as {
        id: string;
        payload: { user: string; note: number };
        debounce?: { seq: number };
      },
    }));

  beforeEach(() => {
    ran.length = 0;
    now = T0 + 10_000; // 12:00:10, 50 s before the window ends
  });

  it("keep 'last': 10 concurrent enqueues send 10 messages for one job delayed to the window's end; the consumer runs the highest number's payload once", async () => {
    // Prepare
    const user = `u-${jobId}`;

    // Act
    const results = await Promise.all(producers().map((p, note) => p.enqueue('digest-last', { user, note })));
    const sent = sentBodies();
    const consumers = Array.from({ length: 5 }, () => consumerOf(registry, () => now + 50_000));
    const responses = await Promise.all(
      sent.map(({ input }, i) =>
        consumers[i % consumers.length].handler(
          { Records: [record(`d-${i}`, input.MessageBody as string)] },
          lambdaContext(),
        ),
      ),
    );

    // Assess
    const id = results[0].jobId;
    expect(results.map((r) => [r.jobId, r.status, r.windowEndsAt])).toEqual(
      Array(10).fill([id, 'debounced', '2025-06-01T12:01:00.000Z']),
    );
    expect(sent).toHaveLength(10);
    expect(sent.map((s) => [s.envelope.id, s.input.DelaySeconds])).toEqual(Array(10).fill([id, 50]));
    expect(sent.map((s) => s.envelope.debounce?.seq).sort((a = 0, b = 0) => a - b)).toEqual(
      Array.from({ length: 10 }, (_, i) => i + 1),
    );
    const highest = sent.find((s) => s.envelope.debounce?.seq === 10);
    expect(ran).toEqual([{ jobId: id, payload: highest?.envelope.payload }]);
    expect(responses.flatMap((r) => r.batchItemFailures)).toEqual([]);
    // The others are acknowledged unrun: SUPERSEDED, or DUPLICATE when the winner had already finished
    const statuses = consumers.flatMap((c) => c.lines()).map((l) => l.status);
    expect(statuses.filter((s) => s === 'SUCCEEDED')).toHaveLength(1);
    expect(statuses.filter((s) => s === 'SUPERSEDED' || s === 'DUPLICATE')).toHaveLength(9);
    expect(await ledger.get(id)).toMatchObject({ status: 'SUCCEEDED', attempts: 1, debounce: { seq: 10 } });
  });

  it("keep 'first': 10 concurrent enqueues send exactly one message, 9 are debounced; the next window is a new job, sent again", async () => {
    // Prepare
    const user = `u-${jobId}`;

    // Act
    const results = await Promise.all(
      producers().map((p, note) => p.enqueue('digest-first', { user, note })),
    );
    const firstWindow = sentBodies();
    sqs.resetHistory();
    now += 60_000;
    const next = await producers()[0].enqueue('digest-first', { user, note: 99 });
    const secondWindow = sentBodies();

    // Assess
    const id = results[0].jobId;
    expect(new Set(results.map((r) => r.jobId))).toEqual(new Set([id]));
    expect(results.filter((r) => r.status === 'enqueued')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'debounced')).toHaveLength(9);
    expect(firstWindow).toHaveLength(1);
    expect(firstWindow[0].envelope.id).toBe(id);
    expect(firstWindow[0].input.DelaySeconds).toBeUndefined();
    const sentNote = firstWindow[0].envelope.payload.note;
    expect(results.find((r) => r.status === 'enqueued')).toBe(results[sentNote]);
    expect(next).toMatchObject({ status: 'enqueued', windowEndsAt: '2025-06-01T12:02:00.000Z' });
    expect(next.jobId).not.toBe(id);
    expect(secondWindow.map((s) => [s.envelope.id, s.envelope.payload.note])).toEqual([[next.jobId, 99]]);
  });
});
