/**
 * Every ledger transition and every conditional failure against a real DynamoDB engine
 * (DynamoDB Local, started by the `ledger` project's globalSetup).
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { HISTORY_TRIM_AT } from '../../../lambdas/ledger/history';
import { type KeyedEnqueueInput, Ledger } from '../../../lambdas/ledger/ledger';
import { LEDGER_LIMITS } from '../../../lambdas/shared/contract';
import { readable } from './support/fixtures';
import { createLedgerTable } from './support/ledger-table';

const endpoint = inject('dynamodbEndpoint') ?? process.env.DYNAMODB_ENDPOINT;
const client = new DynamoDBClient({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
const tableName = `ledger-${Date.now()}`;
let now = Date.parse('2025-06-01T12:00:00.000Z');
const ledger = new Ledger({ client, tableName, ttlSeconds: 3600, now: () => now });
let seq = 0;
let jobId = '';
const claimInput = (owner: string, leaseMs = 60_000) => ({
  jobId,
  type: 'resize',
  lane: 'default',
  enqueuedAt: '2025-06-01T11:59:00.000Z',
  owner,
  leaseMs,
});

async function rawItem() {
  const out = await client.send(
    new GetItemCommand({ TableName: tableName, Key: { jobId: { S: jobId } }, ConsistentRead: true }),
  );
  return out.Item;
}

beforeAll(() => createLedgerTable(client, tableName));

beforeEach(() => {
  jobId = `job-${++seq}`;
  now = Date.parse('2025-06-01T12:00:00.000Z');
});

describe('strict: claim → complete', () => {
  it('claims a new job: RUNNING with lease, owner, attempts 1, TTL', async () => {
    // Act
    const claim = await ledger.claim(claimInput('owner-a'));

    // Assess
    expect(claim).toMatchObject({ kind: 'claimed', attempts: 1, takeover: false });
    const record = await ledger.get(jobId);
    expect(record).toMatchObject({
      status: 'RUNNING',
      attempts: 1,
      leaseOwner: 'owner-a',
      leaseUntil: now + 60_000,
      type: 'resize',
      lane: 'default',
      enqueuedAt: '2025-06-01T11:59:00.000Z',
      startedAt: '2025-06-01T12:00:00.000Z',
      expiresAt: now / 1000 + 3600,
    });
  });

  it('completes: SUCCEEDED with result, lease removed; a second claim finds it finished', async () => {
    // Prepare
    await ledger.claim(claimInput('owner-a'));

    // Act
    const completed = await ledger.complete({
      jobId,
      owner: 'owner-a',
      result: { url: 's3://x' },
      progress: 100,
    });
    const again = await ledger.claim(claimInput('owner-b'));

    // Assess
    expect(completed).toBe(true);
    expect(again.kind).toBe('finished');
    const record = await ledger.get(jobId);
    expect(record).toMatchObject({
      status: 'SUCCEEDED',
      result: { url: 's3://x' },
      progress: 100,
      attempts: 1,
    });
    expect(record?.leaseOwner).toBeUndefined();
    expect(record?.leaseUntil).toBeUndefined();
    expect(record?.finishedAt).toBe('2025-06-01T12:00:00.000Z');
  });

  it('refuses a second claim under a live lease and reports the remaining lease', async () => {
    // Prepare
    await ledger.claim(claimInput('owner-a', 60_000));
    now += 20_000;

    // Act
    const second = await ledger.claim(claimInput('owner-b'));

    // Assess
    expect(second).toMatchObject({ kind: 'busy', leaseRemainingMs: 40_000 });
    expect((await ledger.get(jobId))?.leaseOwner).toBe('owner-a');
  });

  it('lets an expired lease be taken over, and the stale owner can no longer write', async () => {
    // Prepare
    await ledger.claim(claimInput('owner-a', 10_000));
    now += 10_001;

    // Act
    const takeover = await ledger.claim(claimInput('owner-b'));
    const staleComplete = await ledger.complete({ jobId, owner: 'owner-a', result: 'stale' });
    const staleFail = await ledger.fail({
      jobId,
      owner: 'owner-a',
      status: 'FAILED',
      error: new Error('stale'),
    });
    const staleExtend = await ledger.extendLease({ jobId, owner: 'owner-a', leaseMs: 60_000 });
    const ownerComplete = await ledger.complete({ jobId, owner: 'owner-b', result: 'fresh' });

    // Assess
    expect(takeover).toMatchObject({ kind: 'claimed', attempts: 2, takeover: true });
    expect([staleComplete, staleFail, staleExtend]).toEqual([false, false, false]);
    expect(ownerComplete).toBe(true);
    expect(await ledger.get(jobId)).toMatchObject({ status: 'SUCCEEDED', result: 'fresh', attempts: 2 });
  });

  it('extends the owned lease', async () => {
    // Prepare
    await ledger.claim(claimInput('owner-a', 10_000));
    now += 5_000;

    // Act
    const extended = await ledger.extendLease({ jobId, owner: 'owner-a', leaseMs: 30_000 });

    // Assess
    expect(extended).toBe(true);
    expect((await ledger.get(jobId))?.leaseUntil).toBe(now + 30_000);
  });

  it('fails: FAILED with truncated lastError; FAILED is claimable again with attempts 2', async () => {
    // Prepare
    await ledger.claim(claimInput('owner-a'));

    // Act
    const failed = await ledger.fail({
      jobId,
      owner: 'owner-a',
      status: 'FAILED',
      error: new Error('x'.repeat(5000)),
    });
    const retry = await ledger.claim(claimInput('owner-b'));

    // Assess
    expect(failed).toBe(true);
    expect(retry).toMatchObject({ kind: 'claimed', attempts: 2 });
    const record = await ledger.get(jobId);
    expect(record?.lastError?.startsWith('Error: xxx')).toBe(true);
    expect(record?.lastError?.length).toBe(300);
  });

  it('DEAD: records finishedAt; a redriven message may claim it again', async () => {
    // Prepare
    await ledger.claim(claimInput('owner-a'));

    // Act
    await ledger.fail({ jobId, owner: 'owner-a', status: 'DEAD', error: new Error('card declined') });
    const dead = await ledger.get(jobId);
    const redrive = await ledger.claim(claimInput('owner-b'));

    // Assess
    expect(dead).toMatchObject({
      status: 'DEAD',
      lastError: 'Error: card declined',
      finishedAt: '2025-06-01T12:00:00.000Z',
    });
    expect(redrive.kind).toBe('claimed');
  });

  it('stores a note instead of a large result, keeping the item under 1 KB', async () => {
    // Prepare
    await ledger.claim(claimInput('owner-a'));

    // Act
    await ledger.complete({ jobId, owner: 'owner-a', result: { blob: 'y'.repeat(10_000) } });

    // Assess
    const record = await ledger.get(jobId);
    expect(record?.result).toEqual({ omitted: expect.stringMatching(/over the 400-byte ledger limit/) });
    expect(JSON.stringify(await rawItem()).length).toBeLessThan(1024);
  });

  it('owner-conditional progress: written by the owner, refused to anyone else', async () => {
    // Prepare
    await ledger.claim(claimInput('owner-a'));
    const base = { jobId, type: 'resize', lane: 'default', leaseMs: 60_000 };

    // Act
    const mine = await ledger.progress({ ...base, owner: 'owner-a', progress: { page: 3, of: 9 } });
    const theirs = await ledger.progress({ ...base, owner: 'owner-b', progress: 99 });

    // Assess
    expect([mine, theirs]).toEqual([true, false]);
    expect((await ledger.get(jobId))?.progress).toEqual({ page: 3, of: 9 });
  });
});

describe('strict: the first delivery of a job claims with one PutItem (fresh)', () => {
  /** Counts the commands a ledger sends, by name. */
  const counting = () => {
    const sent: string[] = [];
    const inputs: Record<string, unknown>[] = [];
    const spy = {
      send: (command: Parameters<DynamoDBClient['send']>[0]) => {
        sent.push(command.constructor.name);
        inputs.push(command.input as Record<string, unknown>);
        return client.send(command);
      },
    } as unknown as DynamoDBClient;
    return { sent, inputs, ledger: new Ledger({ client: spy, tableName, ttlSeconds: 3600, now: () => now }) };
  };
  const fresh = (owner: string, leaseMs = 60_000) => ({ ...claimInput(owner, leaseMs), fresh: true });

  it('creates the same RUNNING item as the UpdateItem claim, in one conditional PutItem', async () => {
    // Prepare
    const c = counting();
    const viaUpdate = `${jobId}-update`;

    // Act
    const claim = await c.ledger.claim({ ...fresh('owner-a'), tenant: 'acme', group: 'g-1' });
    await ledger.claim({ ...claimInput('owner-a'), jobId: viaUpdate, tenant: 'acme', group: 'g-1' });

    // Assess
    expect(claim).toEqual({ kind: 'claimed', attempts: 1, takeover: false, historyLength: 1, created: true });
    expect(c.sent).toEqual(['PutItemCommand']);
    const { jobId: _a, ...put } = (await rawItem()) ?? {};
    const update = await client.send(
      new GetItemCommand({ TableName: tableName, Key: { jobId: { S: viaUpdate } }, ConsistentRead: true }),
    );
    const { jobId: _b, ...updated } = update.Item ?? {};
    expect(put).toEqual(updated);
    expect(await ledger.get(jobId)).toMatchObject({
      status: 'RUNNING',
      attempts: 1,
      leaseOwner: 'owner-a',
      tenant: 'acme',
      history: [{ status: 'RUNNING', at: '2025-06-01T12:00:00.000Z', attempt: 1 }],
    });
  });

  it('completing an item the claim created removes no resultRef and sends finishedAt and updatedAt as one value', async () => {
    // Prepare
    const c = counting();
    const claim = await c.ledger.claim(fresh('owner-a'));
    const created = claim.kind === 'claimed' ? claim : undefined;

    // Act
    const completed = await c.ledger.complete({
      jobId,
      owner: 'owner-a',
      result: { rows: 3 },
      attempt: 1,
      historyLength: created?.historyLength,
      created: created?.created,
    });

    // Assess
    expect(completed).toBe(true);
    const update = readable(
      c.inputs[1] as { UpdateExpression?: string; ExpressionAttributeNames?: Record<string, string> },
    );
    expect(Object.values(update.ExpressionAttributeNames ?? {})).not.toContain('resultRef');
    expect(update.UpdateExpression).toContain('#finishedAt = :updatedAt');
    expect(await ledger.get(jobId)).toMatchObject({
      status: 'SUCCEEDED',
      result: { rows: 3 },
      finishedAt: '2025-06-01T12:00:00.000Z',
      updatedAt: '2025-06-01T12:00:00.000Z',
      history: [{ status: 'RUNNING' }, { status: 'SUCCEEDED', attempt: 1 }],
    });
    const item = await rawItem();
    expect(item?.leaseOwner).toBeUndefined();
    expect(item?.resultRef).toBeUndefined();
  });

  it('falls back to the UpdateItem claim when a producer wrote the item (ENQUEUED), keeping its fields', async () => {
    // Prepare: a keyed enqueue wrote the item
    await ledger.enqueue({
      jobId,
      type: 'resize',
      lane: 'default',
      enqueuedAt: '2025-06-01T11:59:00.000Z',
      payloadHash: 'hash-a',
      keyUntil: Math.floor(now / 1000) + 3600,
      resendAfter: now + 900_000,
    });
    const c = counting();

    // Act
    const claim = await c.ledger.claim(fresh('owner-a'));

    // Assess
    expect(c.sent).toEqual(['PutItemCommand', 'UpdateItemCommand']);
    expect(claim).toEqual({ kind: 'claimed', attempts: 1, takeover: false, historyLength: 2 });
    expect(await ledger.get(jobId)).toMatchObject({
      status: 'RUNNING',
      attempts: 1,
      leaseOwner: 'owner-a',
      payloadHash: 'hash-a',
      enqueuedAt: '2025-06-01T11:59:00.000Z',
      history: [{ status: 'ENQUEUED' }, { status: 'RUNNING', attempt: 1 }],
    });
  });

  it('a redelivery of a FAILED job falls back to the UpdateItem claim and counts the attempt', async () => {
    // Prepare
    await ledger.claim(fresh('owner-a'));
    await ledger.fail({ jobId, owner: 'owner-a', status: 'FAILED', error: new Error('flaky') });
    const c = counting();

    // Act
    const claim = await c.ledger.claim(fresh('owner-b'));

    // Assess
    expect(c.sent).toEqual(['PutItemCommand', 'UpdateItemCommand']);
    expect(claim).toEqual({ kind: 'claimed', attempts: 2, takeover: false, historyLength: 3 });
    expect(await ledger.get(jobId)).toMatchObject({ status: 'RUNNING', attempts: 2, leaseOwner: 'owner-b' });
  });

  it('answers a duplicate of a finished job, a live lease elsewhere and a cancelled job from the PutItem alone', async () => {
    // Prepare
    const done = `${jobId}-done`;
    const running = `${jobId}-running`;
    const cancelled = `${jobId}-cancelled`;
    await ledger.claim({ ...fresh('owner-a'), jobId: done });
    await ledger.complete({ jobId: done, owner: 'owner-a', result: 1, historyLength: 1 });
    await ledger.claim({ ...fresh('owner-a'), jobId: running });
    await ledger.cancel(cancelled);
    const c = counting();

    // Act
    const duplicate = await c.ledger.claim({ ...fresh('owner-b'), jobId: done });
    const busy = await c.ledger.claim({ ...fresh('owner-b'), jobId: running });
    const unrun = await c.ledger.claim({ ...fresh('owner-b'), jobId: cancelled });

    // Assess
    expect(c.sent).toEqual(['PutItemCommand', 'PutItemCommand', 'PutItemCommand']);
    expect(duplicate).toMatchObject({ kind: 'finished', record: { status: 'SUCCEEDED', result: 1 } });
    expect(busy).toMatchObject({ kind: 'busy', leaseRemainingMs: 60_000 });
    expect(unrun).toMatchObject({ kind: 'cancelled', record: { status: 'CANCELLED' } });
    expect((await ledger.get(running))?.leaseOwner).toBe('owner-a');
  });

  it('takes over an expired lease through the UpdateItem claim', async () => {
    // Prepare
    await ledger.claim(fresh('owner-a', 10_000));
    now += 10_001;

    // Act
    const takeover = await ledger.claim(fresh('owner-b'));

    // Assess
    expect(takeover).toEqual({ kind: 'claimed', attempts: 2, takeover: true, historyLength: 2 });
    expect((await ledger.get(jobId))?.leaseOwner).toBe('owner-b');
  });

  it('an SDK retry of an applied PutItem claim is still claimed, counting the attempt once', async () => {
    // Prepare: the first try is applied
    await ledger.claim(fresh('owner-a'));

    // Act: the identical request again fails its condition against our own lease
    const retried = await ledger.claim(fresh('owner-a'));

    // Assess
    expect(retried).toEqual({ kind: 'claimed', attempts: 1, takeover: false, historyLength: 1 });
    expect(await ledger.get(jobId)).toMatchObject({ status: 'RUNNING', attempts: 1, leaseOwner: 'owner-a' });
  });

  it('complete with the claim’s history length reads nothing back, and still trims a long history', async () => {
    // Prepare: eleven failed runs leave 1 + 2 × 11 = 23 entries, trimmed on the way
    let historyLength: number | undefined;
    for (let run = 1; run <= 12; run++) {
      const claim = await ledger.claim(fresh(`owner-${run}`));
      if (claim.kind !== 'claimed') throw new Error(claim.kind);
      historyLength = claim.historyLength;
      if (run < 12) await ledger.fail({ jobId, owner: `owner-${run}`, status: 'FAILED', error: 'x' });
    }
    const before = (await rawItem())?.history?.L?.length ?? 0;
    const c = counting();

    // Act
    const done = await c.ledger.complete({ jobId, owner: 'owner-12', result: 1, historyLength });

    // Assess: the SUCCEEDED write asked for nothing back; the history stays within its bound
    expect(done).toBe(true);
    expect(historyLength).toBe(before);
    expect(c.inputs[0].ReturnValues).toBeUndefined();
    const history = (await ledger.get(jobId))?.history ?? [];
    expect(history.length).toBeLessThanOrEqual(HISTORY_TRIM_AT);
    expect(history.at(-1)).toMatchObject({ status: 'SUCCEEDED', attempt: 12 });
    if (before + 1 > HISTORY_TRIM_AT) {
      expect(c.sent).toEqual(['UpdateItemCommand', 'UpdateItemCommand']);
      expect(history).toHaveLength(LEDGER_LIMITS.historyEntries);
    }
  });
});

describe('strict: a write the SDK retried after its first try was applied (response lost)', () => {
  it('a retried claim is still claimed, counting the attempt once', async () => {
    // Prepare: the first try is applied
    await ledger.claim(claimInput('owner-a'));

    // Act: the identical request again fails its condition against our own lease
    const retried = await ledger.claim(claimInput('owner-a'));

    // Assess
    expect(retried).toMatchObject({ kind: 'claimed', attempts: 1, takeover: false });
    expect(await ledger.get(jobId)).toMatchObject({ status: 'RUNNING', attempts: 1, leaseOwner: 'owner-a' });
  });

  it('a retried claim of a FAILED job reports the attempts the applied claim counted', async () => {
    // Prepare
    await ledger.claim(claimInput('owner-a'));
    await ledger.fail({ jobId, owner: 'owner-a', status: 'FAILED', error: new Error('flaky') });
    await ledger.claim(claimInput('owner-b'));

    // Act
    const retried = await ledger.claim(claimInput('owner-b'));
    const other = await ledger.claim(claimInput('owner-c'));

    // Assess
    expect(retried).toMatchObject({ kind: 'claimed', attempts: 2, takeover: false });
    expect(other.kind).toBe('busy');
  });
});

/**
 * What the SDK does when a connection resets after the service applied a write: it sends the same
 * request again. This client does that to every request: applied, then sent again.
 */
const replaying = {
  send: async (command: Parameters<DynamoDBClient['send']>[0]) => {
    await client.send(command);
    return client.send(command);
  },
} as unknown as DynamoDBClient;
const replayed = new Ledger({ client: replaying, tableName, ttlSeconds: 3600, now: () => now });

describe('every other write, replayed by the SDK after it was applied', () => {
  const base = { type: 'resize', lane: 'default', leaseMs: 60_000 };

  it('strict complete, fail and DEAD: the item is right; the replay answers false, which only a log line reads', async () => {
    // Prepare
    const other = `${jobId}-dead`;
    await ledger.claim(claimInput('owner-a'));
    await ledger.claim({ ...claimInput('owner-b'), jobId: other });

    // Act
    const completed = await replayed.complete({ jobId, owner: 'owner-a', result: 1 });
    const dead = await replayed.fail({
      jobId: other,
      owner: 'owner-b',
      status: 'DEAD',
      error: new Error('x'),
    });

    // Assess
    expect([completed, dead]).toEqual([false, false]);
    expect(await ledger.get(jobId)).toMatchObject({ status: 'SUCCEEDED', result: 1, attempts: 1 });
    expect(await ledger.get(other)).toMatchObject({ status: 'DEAD', attempts: 1 });
  });

  it('extendLease, abandon and progress (owned or not) are idempotent: the replay applies the same values again', async () => {
    // Prepare
    const unowned = `${jobId}-unowned`;
    await ledger.claim(claimInput('owner-a', 10_000));
    now += 5_000;

    // Act
    const extended = await replayed.extendLease({ jobId, owner: 'owner-a', leaseMs: 30_000 });
    const progressed = await replayed.progress({ ...base, jobId, owner: 'owner-a', progress: 5 });
    const abandoned = await replayed.abandon({
      ...base,
      jobId,
      owner: 'owner-a',
      error: new Error('timeout'),
    });
    const unownedProgress = await replayed.progress({ ...base, jobId: unowned, progress: 1 });
    const unownedAbandon = await replayed.abandon({ ...base, jobId: unowned, error: new Error('timeout') });

    // Assess
    expect([extended, progressed, abandoned, unownedProgress, unownedAbandon]).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(await ledger.get(jobId)).toMatchObject({
      status: 'RUNNING',
      leaseOwner: 'owner-a',
      leaseUntil: now + 60_000,
      attempts: 1,
      progress: 5,
    });
    expect(await ledger.get(unowned)).toMatchObject({
      status: 'RUNNING',
      leaseUntil: now + 60_000,
      attempts: 0,
    });
  });

  it.each(['SUCCEEDED', 'FAILED', 'DEAD'] as const)(
    'unowned recordOutcome %s counts the attempt once and reports the write as done',
    async (status) => {
      // Act
      const written = await replayed.recordOutcome({
        jobId,
        type: 'resize',
        lane: 'default',
        status,
        error: 'x',
      });

      // Assess
      expect(written).toBe(true);
      expect(await ledger.get(jobId)).toMatchObject({ status, attempts: 1 });
    },
  );

  it('the keyed enqueue, its undo and the claim, replayed, report what their first try did', async () => {
    // Act
    const input = { jobId, type: 'resize', lane: 'default', enqueuedAt: '2025-06-01T12:00:00.000Z' };
    const keyed = { ...input, payloadHash: 'h', keyUntil: now / 1000 + 3600, resendAfter: now + 900_000 };
    const enqueued = await replayed.enqueue(keyed);
    const undone = await replayed.removeEnqueued(jobId, input.enqueuedAt);
    await ledger.enqueue(keyed);
    const claimed = await replayed.claim({ ...input, owner: 'owner-a', leaseMs: 60_000 });

    // Assess
    expect(enqueued.kind).toBe('written');
    expect(undone).toBe(true);
    expect(claimed).toMatchObject({ kind: 'claimed', attempts: 1, takeover: false });
    expect(await ledger.get(jobId)).toMatchObject({ status: 'RUNNING', attempts: 1, leaseOwner: 'owner-a' });
  });

  it('dead-lettering before a claim (respectLease, no attempt counted) is idempotent', async () => {
    // Act
    const written = await replayed.recordOutcome(
      { jobId, lane: 'default', status: 'DEAD', error: new Error('bad payload') },
      { respectLease: true, countAttempt: false },
    );

    // Assess
    expect(written).toBe(true);
    expect(await ledger.get(jobId)).toMatchObject({ status: 'DEAD', attempts: 0 });
  });
});

describe('optimistic / none: unowned writes', () => {
  it('records SUCCEEDED once; a second SUCCEEDED write is refused', async () => {
    // Act
    const first = await ledger.recordOutcome({
      jobId,
      type: 'resize',
      lane: 'default',
      status: 'SUCCEEDED',
      result: 1,
    });
    const second = await ledger.recordOutcome({
      jobId,
      type: 'resize',
      lane: 'default',
      status: 'SUCCEEDED',
      result: 2,
    });
    const lateFailure = await ledger.recordOutcome({
      jobId,
      lane: 'default',
      status: 'FAILED',
      error: new Error('late'),
    });

    // Assess
    expect([first, second, lateFailure]).toEqual([true, false, false]);
    expect(await ledger.get(jobId)).toMatchObject({ status: 'SUCCEEDED', result: 1, attempts: 1 });
  });

  it('unowned progress marks the job RUNNING under a lease that a strict claim respects', async () => {
    // Act
    await ledger.progress({ jobId, type: 'resize', lane: 'default', leaseMs: 30_000, progress: 10 });
    const claim = await ledger.claim(claimInput('owner-a'));

    // Assess
    expect(claim).toMatchObject({ kind: 'busy', leaseRemainingMs: 30_000 });
  });

  it('dead-lettering before a claim leaves a live lease alone but overwrites FAILED', async () => {
    // Prepare
    await ledger.claim(claimInput('owner-a'));

    // Act
    const whileRunning = await ledger.recordOutcome(
      { jobId, lane: 'default', status: 'DEAD', error: new Error('bad payload') },
      { respectLease: true },
    );
    await ledger.fail({ jobId, owner: 'owner-a', status: 'FAILED', error: new Error('x') });
    const afterFailure = await ledger.recordOutcome(
      { jobId, lane: 'default', status: 'DEAD', error: new Error('bad payload') },
      { respectLease: true },
    );

    // Assess
    expect([whileRunning, afterFailure]).toEqual([false, true]);
    expect(await ledger.get(jobId)).toMatchObject({ status: 'DEAD', lastError: 'Error: bad payload' });
  });
});

describe('producer: keyed enqueue', () => {
  const nowSeconds = () => Math.floor(now / 1000);
  const enqueue = (over: Partial<KeyedEnqueueInput> = {}) =>
    ledger.enqueue({
      jobId,
      type: 'resize',
      lane: 'default',
      enqueuedAt: '2025-06-01T12:00:00.000Z',
      payloadHash: 'hash-a',
      keyUntil: nowSeconds() + 3600,
      resendAfter: now + 900_000,
      ...over,
    });

  it('creates ENQUEUED once and returns the existing job while it is unfinished', async () => {
    // Act
    const first = await enqueue();
    // Another producer's call: its own enqueuedAt (an identical request is an SDK retry of ours)
    const second = await enqueue({ enqueuedAt: '2025-06-01T12:00:00.001Z' });
    await ledger.claim(claimInput('owner-a'));
    const whileRunning = await enqueue();

    // Assess
    expect(first).toEqual({ kind: 'created' });
    expect(second).toMatchObject({
      kind: 'duplicate',
      existing: { status: 'ENQUEUED', attempts: 0, payloadHash: 'hash-a' },
    });
    expect(whileRunning).toMatchObject({ kind: 'duplicate', existing: { status: 'RUNNING' } });
  });

  it.each([
    ['SUCCEEDED', { result: 1 }],
    ['DEAD', { lastError: 'Error: card declined' }],
  ] as const)(
    'returns a %s job as a duplicate within the key window: the key never runs twice by accident',
    async (status, fields) => {
      // Prepare
      await enqueue();
      await ledger.claim(claimInput('owner-a'));
      if (status === 'SUCCEEDED') await ledger.complete({ jobId, owner: 'owner-a', result: 1 });
      else await ledger.fail({ jobId, owner: 'owner-a', status: 'DEAD', error: new Error('card declined') });
      now += 3_000_000; // long after the send grace, still inside the key window

      // Act
      const again = await enqueue({ enqueuedAt: '2025-06-01T12:50:00.000Z' });

      // Assess
      expect(again).toMatchObject({ kind: 'duplicate', existing: { status, attempts: 1, ...fields } });
      expect((await ledger.get(jobId))?.status).toBe(status);
    },
  );

  it('re-runs a finished job only when asked, and only with the same payload', async () => {
    // Prepare
    await enqueue();
    await ledger.claim(claimInput('owner-a'));
    await ledger.complete({ jobId, owner: 'owner-a', result: 1 });

    // Act
    const otherPayload = await enqueue({ rerun: true, payloadHash: 'hash-b' });
    const rerun = await enqueue({ rerun: true, enqueuedAt: '2025-06-01T12:10:00.000Z' });
    const whileQueued = await enqueue({ rerun: true });

    // Assess
    expect(otherPayload).toMatchObject({ kind: 'duplicate', existing: { status: 'SUCCEEDED' } });
    expect(rerun).toMatchObject({ kind: 'rerun', previous: { status: 'SUCCEEDED', result: 1 } });
    expect(whileQueued).toMatchObject({ kind: 'duplicate', existing: { status: 'ENQUEUED' } });
    expect(await ledger.get(jobId)).toMatchObject({
      status: 'ENQUEUED',
      attempts: 0,
      result: undefined,
      enqueuedAt: '2025-06-01T12:10:00.000Z',
    });
  });

  it('lets the key send again once an ENQUEUED item is past its resend time (its producer died before sending)', async () => {
    // Prepare: written, never sent, never claimed
    await enqueue({ resendAfter: now + 60_000 });

    // Act: each call is another producer's, with its own enqueuedAt
    const early = await enqueue({ enqueuedAt: '2025-06-01T12:00:30.000Z' });
    now += 61_000;
    const otherPayload = await enqueue({ payloadHash: 'hash-b', enqueuedAt: '2025-06-01T12:01:01.000Z' });
    const resent = await enqueue({ enqueuedAt: '2025-06-01T12:01:02.000Z' });
    const afterResend = await enqueue({ enqueuedAt: '2025-06-01T12:01:03.000Z' });

    // Assess
    expect(early.kind).toBe('duplicate');
    expect(otherPayload.kind).toBe('duplicate');
    expect(resent).toMatchObject({ kind: 'resent', previous: { status: 'ENQUEUED' } });
    expect(afterResend.kind).toBe('duplicate');
  });

  it('never resends a job a consumer has claimed, however late', async () => {
    // Prepare
    await enqueue({ resendAfter: now + 1000 });
    await ledger.claim(claimInput('owner-a'));
    await ledger.fail({ jobId, owner: 'owner-a', status: 'FAILED', error: new Error('flaky') });
    now += 600_000;

    // Act
    const again = await enqueue();

    // Assess
    expect(again).toMatchObject({ kind: 'duplicate', existing: { status: 'FAILED', attempts: 1 } });
  });

  it('starts a new job once the key window has passed (the item is not yet deleted by TTL)', async () => {
    // Prepare
    await enqueue({ keyUntil: nowSeconds() + 60 });
    await ledger.claim(claimInput('owner-a'));
    await ledger.complete({ jobId, owner: 'owner-a', result: 1 });
    now += 120_000;

    // Act
    const again = await enqueue({ payloadHash: 'hash-b' });

    // Assess
    expect(again).toMatchObject({ kind: 'created', previous: { status: 'SUCCEEDED' } });
    expect(await ledger.get(jobId)).toMatchObject({ status: 'ENQUEUED', payloadHash: 'hash-b' });
  });

  it('removes only its own ENQUEUED item', async () => {
    // Prepare
    await enqueue();

    // Act
    const wrongTime = await ledger.removeEnqueued(jobId, '1999-01-01T00:00:00.000Z');
    const own = await ledger.removeEnqueued(jobId, '2025-06-01T12:00:00.000Z');

    // Assess
    expect([wrongTime, own]).toEqual([false, true]);
    expect(await ledger.get(jobId)).toBeUndefined();
  });

  it('an enqueue retried by the SDK after its first try was applied is our own write: not a duplicate, so the client sends', async () => {
    // Prepare: the first try is applied, its response lost (ECONNRESET)
    await enqueue();

    // Act: the SDK sends the identical request again
    const retried = await enqueue();
    const otherProducer = await enqueue({ enqueuedAt: '2025-06-01T12:00:00.001Z' });
    const otherPayload = await enqueue({ payloadHash: 'hash-b' });

    // Assess
    expect(retried.kind).toBe('written');
    expect(otherProducer).toMatchObject({ kind: 'duplicate', existing: { status: 'ENQUEUED' } });
    expect(otherPayload.kind).toBe('duplicate');
    expect(await ledger.get(jobId)).toMatchObject({ status: 'ENQUEUED', attempts: 0 });
  });

  it('an undo retried by the SDK after its first try was applied reports the item removed', async () => {
    // Prepare: the first try deleted the item, its response was lost
    await enqueue();
    await ledger.removeEnqueued(jobId, '2025-06-01T12:00:00.000Z');

    // Act: the identical request again finds no item
    const retried = await ledger.removeEnqueued(jobId, '2025-06-01T12:00:00.000Z');

    // Assess
    expect(retried).toBe(true);
    expect(await ledger.get(jobId)).toBeUndefined();
  });

  it('an undo leaves another enqueue, or a claimed job, in place and says so', async () => {
    // Prepare
    await enqueue({ enqueuedAt: '2025-06-01T12:00:00.000Z' });

    // Act
    const otherEnqueue = await ledger.removeEnqueued(jobId, '2025-06-01T11:00:00.000Z');
    await ledger.claim(claimInput('owner-a'));
    const claimed = await ledger.removeEnqueued(jobId, '2025-06-01T12:00:00.000Z');

    // Assess
    expect([otherEnqueue, claimed]).toEqual([false, false]);
    expect((await ledger.get(jobId))?.status).toBe('RUNNING');
  });
});
