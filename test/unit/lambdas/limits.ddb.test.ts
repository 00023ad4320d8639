/**
 * Rate limits (GCRA) and concurrency limits (lease map) against a real DynamoDB engine
 * (DynamoDB Local, started by the `ledger` project's globalSetup): exact decisions under a pinned
 * clock, and races between many Limits instances (many consumers) sharing one item.
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { Limits, limitItemId } from '../../../lambdas/ledger/limits';
import { createLedgerTable } from './support/ledger-table';

const endpoint = inject('dynamodbEndpoint') ?? process.env.DYNAMODB_ENDPOINT;
const newClient = () =>
  new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
const client = newClient();
const tableName = `limits-${Date.now()}`;
let now = Date.parse('2025-06-01T12:00:00.000Z');
const limits = new Limits({ client, tableName, now: () => now });
/** Many consumers: each its own instance and its own client (own connections). */
const consumers = Array.from(
  { length: 4 },
  () => new Limits({ client: newClient(), tableName, now: () => now }),
);
let seq = 0;
let id = '';

async function rawItem(itemId = id) {
  const out = await client.send(
    new GetItemCommand({ TableName: tableName, Key: { jobId: { S: itemId } }, ConsistentRead: true }),
  );
  return out.Item;
}

beforeAll(() => createLedgerTable(client, tableName));

beforeEach(() => {
  id = limitItemId('rate', 'test', `case-${++seq}`);
  now = Date.parse('2025-06-01T12:00:00.000Z');
});

describe('limitItemId', () => {
  it('hashes the key (sha256, 32 hex) so the raw key never appears, under the ~ prefix', () => {
    // Act
    const rate = limitItemId('rate', 'email', 'alice@example.com');
    const conc = limitItemId('concurrency', 'email', 'alice@example.com');

    // Assess
    expect(rate).toMatch(/^~rate#email#[0-9a-f]{32}$/);
    expect(conc).toMatch(/^~conc#email#[0-9a-f]{32}$/);
    expect(rate).not.toContain('alice');
    expect(rate.slice(-32)).toBe(conc.slice(-32));
    expect(limitItemId('rate', 'email', 'alice@example.com')).toBe(rate);
    expect(limitItemId('rate', 'email', 'bob@example.com')).not.toBe(rate);
    expect(limitItemId('rate', 'email')).toBe('~rate#email');
    expect(limitItemId('concurrency', 'email')).toBe('~conc#email');
  });
});

describe('takeToken (GCRA)', () => {
  const five = () => ({ id, limit: 5, intervalMs: 10_000 }); // T = 2 s

  it('allows a burst of `limit` after idle, denies the next with the exact wait, allows it after that wait', async () => {
    // Act
    const burst = [];
    for (let i = 0; i < 5; i++) burst.push(await limits.takeToken(five()));
    const sixth = await limits.takeToken(five());
    now += 1999;
    const early = await limits.takeToken(five());
    now += 1;
    const onTime = await limits.takeToken(five());
    const after = await limits.takeToken(five());

    // Assess
    expect(burst).toEqual(Array(5).fill({ allowed: true }));
    expect(sixth).toEqual({ allowed: false, retryAfterMs: 2000 });
    expect(early).toEqual({ allowed: false, retryAfterMs: 1 });
    expect(onTime).toEqual({ allowed: true });
    expect(after).toEqual({ allowed: false, retryAfterMs: 2000 });
  });

  it('keeps allowing a steady rate of one per T', async () => {
    // Act
    const decisions = [];
    for (let i = 0; i < 20; i++) {
      decisions.push(await limits.takeToken(five()));
      now += 2000;
    }

    // Assess
    expect(decisions).toEqual(Array(20).fill({ allowed: true }));
  });

  it('refills fully after an idle interval: another burst of `limit`', async () => {
    // Prepare
    for (let i = 0; i < 6; i++) await limits.takeToken(five());

    // Act
    now += 10_000;
    const burst = [];
    for (let i = 0; i < 6; i++) burst.push((await limits.takeToken(five())).allowed);

    // Assess
    expect(burst).toEqual([true, true, true, true, true, false]);
  });

  it('rounds T up to a whole ms when limit does not divide the interval, keeping the burst at `limit`', async () => {
    // Act: 3 per second, T = 334 ms
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await limits.takeToken({ id, limit: 3, intervalMs: 1000 }));

    // Assess
    expect(decisions).toEqual([
      { allowed: true },
      { allowed: true },
      { allowed: true },
      { allowed: false, retryAfterMs: 334 },
    ]);
    expect(await limits.readRate(id)).toEqual({ nextFreeAt: now + 1002 });
  });

  it('writes only jobId, tat and a TTL after the bucket is full again', async () => {
    // Act
    await limits.takeToken(five());
    await limits.takeToken(five());

    // Assess
    expect(await rawItem()).toEqual({
      jobId: { S: id },
      tat: { N: String(now + 4000) },
      // the second write covers the latest tat it could have left (now + 10 s) plus the interval
      expiresAt: { N: String((now + 20_000) / 1000 + 60) },
    });
    expect(await limits.readRate(id)).toEqual({ nextFreeAt: now + 4000 });
    expect(await limits.readRate(limitItemId('rate', 'test', 'never-used'))).toBeUndefined();
  });

  it('RACE: 40 concurrent takes from 4 consumers, limit 10 per 60 s → exactly 10 allowed', async () => {
    // Act
    const decisions = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        consumers[i % consumers.length].takeToken({ id, limit: 10, intervalMs: 60_000 }),
      ),
    );

    // Assess
    expect(decisions.filter((d) => d.allowed)).toHaveLength(10);
    // every denial waits for the next token: tat (now + 60 s) minus the burst tolerance (54 s)
    expect(decisions.filter((d) => !d.allowed)).toEqual(
      Array(30).fill({ allowed: false, retryAfterMs: 6000 }),
    );
    expect(await limits.readRate(id)).toEqual({ nextFreeAt: now + 60_000 });
  });

  it('keeps different keys independent', async () => {
    // Prepare
    const alice = limitItemId('rate', 'email', `alice-${seq}`);
    const bob = limitItemId('rate', 'email', `bob-${seq}`);
    await limits.takeToken({ id: alice, limit: 1, intervalMs: 60_000 });

    // Act
    const aliceAgain = await limits.takeToken({ id: alice, limit: 1, intervalMs: 60_000 });
    const bobFirst = await limits.takeToken({ id: bob, limit: 1, intervalMs: 60_000 });

    // Assess
    expect(aliceAgain).toEqual({ allowed: false, retryAfterMs: 60_000 });
    expect(bobFirst).toEqual({ allowed: true });
  });
});

describe('acquireSlot / releaseSlot (lease map)', () => {
  beforeEach(() => {
    id = limitItemId('concurrency', 'test', `case-${seq}`);
  });
  const slot = (holder: string, limit = 2, leaseMs = 60_000) => ({ id, limit, holder, leaseMs });

  it('creates the item on the first acquire and holds at most `limit`, reporting the earliest lease end', async () => {
    // Act
    const a = await limits.acquireSlot(slot('a', 2, 30_000));
    now += 1000;
    const b = await limits.acquireSlot(slot('b', 2, 60_000));
    const c = await limits.acquireSlot(slot('c', 2));

    // Assess
    expect(a).toEqual({ acquired: true });
    expect(b).toEqual({ acquired: true });
    expect(c).toEqual({ acquired: false, running: 2, retryAfterMs: 29_000 });
    expect(await rawItem()).toEqual({
      jobId: { S: id },
      holders: { M: { a: { N: String(now - 1000 + 30_000) }, b: { N: String(now + 60_000) } } },
      expiresAt: { N: String((now + 60_000) / 1000 + 3600) },
    });
    expect(await limits.readSlots(id)).toEqual({
      holders: [
        { holder: 'a', until: now - 1000 + 30_000 },
        { holder: 'b', until: now + 60_000 },
      ],
    });
  });

  it('clamps the retry hint to [1 s, 60 s]', async () => {
    // Prepare
    await limits.acquireSlot(slot('a', 1, 300));
    const soon = await limits.acquireSlot(slot('b', 1));
    await limits.releaseSlot({ id, holder: 'a' });
    await limits.acquireSlot(slot('a', 1, 600_000));

    // Act
    const late = await limits.acquireSlot(slot('b', 1));

    // Assess
    expect(soon).toEqual({ acquired: false, running: 1, retryAfterMs: 1000 });
    expect(late).toEqual({ acquired: false, running: 1, retryAfterMs: 60_000 });
  });

  it('re-acquire by the same holder succeeds even when full (an SDK retry) and extends its lease', async () => {
    // Prepare
    await limits.acquireSlot(slot('a', 1));
    now += 5000;

    // Act
    const again = await limits.acquireSlot(slot('a', 1));
    const other = await limits.acquireSlot(slot('b', 1));

    // Assess
    expect(again).toEqual({ acquired: true });
    expect(other).toEqual({ acquired: false, running: 1, retryAfterMs: 60_000 });
    expect(await limits.readSlots(id)).toEqual({ holders: [{ holder: 'a', until: now + 60_000 }] });
  });

  it('reclaims a holder whose lease ended, never a live one', async () => {
    // Prepare
    await limits.acquireSlot(slot('a', 2, 10_000));
    await limits.acquireSlot(slot('b', 2, 60_000));
    now += 20_000;

    // Act
    const c = await limits.acquireSlot(slot('c'));
    const d = await limits.acquireSlot(slot('d'));

    // Assess
    expect(c).toEqual({ acquired: true });
    expect(d).toEqual({ acquired: false, running: 2, retryAfterMs: 40_000 });
    expect((await limits.readSlots(id))?.holders.map((h) => h.holder)).toEqual(['b', 'c']);
  });

  it('does not reclaim a lease its holder renewed between the denial and the removal', async () => {
    // Prepare: a's lease ended; the client of consumer C lets a re-acquire just before C's removal.
    await limits.acquireSlot(slot('a', 2, 10_000));
    await limits.acquireSlot(slot('b', 2, 60_000));
    now += 20_000;
    const racyClient = newClient();
    let renewed = false;
    racyClient.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { UpdateExpression?: string };
        if (!renewed && input.UpdateExpression?.startsWith('REMOVE #holders.#h0')) {
          renewed = true;
          await limits.acquireSlot(slot('a', 2, 30_000));
        }
        return next(args);
      },
      { step: 'initialize' },
    );
    const racy = new Limits({ client: racyClient, tableName, now: () => now });

    // Act
    const c = await racy.acquireSlot(slot('c'));

    // Assess
    expect(renewed).toBe(true);
    expect(c).toEqual({ acquired: false, running: 2, retryAfterMs: 30_000 });
    expect(await limits.readSlots(id)).toEqual({
      holders: [
        { holder: 'a', until: now + 30_000 },
        { holder: 'b', until: now - 20_000 + 60_000 },
      ],
    });
  });

  it('RACE: 30 concurrent acquires from 4 consumers, limit 3 → exactly 3; after one release, 1 of 10 more', async () => {
    // Act
    const first = await Promise.all(
      Array.from({ length: 30 }, (_, i) => consumers[i % consumers.length].acquireSlot(slot(`h${i}`, 3))),
    );
    const winners = first.flatMap((d, i) => (d.acquired ? [`h${i}`] : []));
    await limits.releaseSlot({ id, holder: winners[0] });
    const second = await Promise.all(
      Array.from({ length: 10 }, (_, i) => consumers[i % consumers.length].acquireSlot(slot(`g${i}`, 3))),
    );

    // Assess
    expect(winners).toHaveLength(3);
    expect(first.filter((d) => !d.acquired)).toEqual(
      Array(27).fill({ acquired: false, running: 3, retryAfterMs: 60_000 }),
    );
    expect(second.filter((d) => d.acquired)).toHaveLength(1);
    const holders = (await limits.readSlots(id))?.holders.map((h) => h.holder) ?? [];
    expect(holders).toHaveLength(3);
    expect(holders).not.toContain(winners[0]);
  });

  it('releases idempotently: twice, an unknown holder, a missing item; no stray item is created', async () => {
    // Prepare
    await limits.acquireSlot(slot('a'));
    await limits.acquireSlot(slot('b'));
    const missing = limitItemId('concurrency', 'test', `missing-${seq}`);

    // Act
    await limits.releaseSlot({ id, holder: 'a' });
    await limits.releaseSlot({ id, holder: 'a' });
    await limits.releaseSlot({ id, holder: 'nobody' });
    await limits.releaseSlot({ id: missing, holder: 'a' });

    // Assess
    expect(await limits.readSlots(id)).toEqual({ holders: [{ holder: 'b', until: now + 60_000 }] });
    expect(await rawItem(missing)).toBeUndefined();
    expect(await limits.readSlots(missing)).toBeUndefined();
  });

  it('keeps different keys independent', async () => {
    // Prepare
    const alice = limitItemId('concurrency', 'email', `alice-${seq}`);
    const bob = limitItemId('concurrency', 'email', `bob-${seq}`);
    await limits.acquireSlot({ id: alice, limit: 1, holder: 'a', leaseMs: 60_000 });

    // Act
    const aliceFull = await limits.acquireSlot({ id: alice, limit: 1, holder: 'b', leaseMs: 60_000 });
    const bobFree = await limits.acquireSlot({ id: bob, limit: 1, holder: 'b', leaseMs: 60_000 });

    // Assess
    expect(aliceFull.acquired).toBe(false);
    expect(bobFree).toEqual({ acquired: true });
  });
});
