/**
 * Limits without an emulator: input validation, and the error paths of the SDK (throttling
 * propagates; a failed condition is decided from the item it returns, without a read).
 */
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  ProvisionedThroughputExceededException,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { Limits } from '../../../lambdas/ledger/limits';
import { ConfigError } from '../../../lambdas/shared/errors';

const ddb = mockClient(DynamoDBClient);
const now = Date.parse('2025-06-01T12:00:00.000Z');
const limits = new Limits({
  client: new DynamoDBClient({ region: 'us-east-1' }),
  tableName: 'ledger',
  now: () => now,
});
const id = '~rate#test';

const conditionFailed = (item?: Record<string, unknown>) =>
  new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    Item: item as never,
  });
const throttled = () =>
  new ProvisionedThroughputExceededException({
    message: 'Rate of requests exceeds the allowed throughput',
    $metadata: {},
  });

beforeEach(() => {
  ddb.reset();
});

describe('input validation', () => {
  it.each([
    [{ limit: 0, intervalMs: 1000 }, 'takeToken limit must be an integer >= 1; got 0'],
    [{ limit: 2.5, intervalMs: 1000 }, 'takeToken limit must be an integer >= 1; got 2.5'],
    [{ limit: 5, intervalMs: 0 }, 'takeToken intervalMs must be a number of ms > 0; got 0'],
    [{ limit: 5, intervalMs: -100 }, 'takeToken intervalMs must be a number of ms > 0; got -100'],
  ])('takeToken refuses %o, naming the field and the value', async (input, message) => {
    // Act
    const taking = limits.takeToken({ id, ...input });

    // Assess
    await expect(taking).rejects.toThrow(ConfigError);
    await expect(taking).rejects.toThrow(message);
    expect(ddb.calls()).toHaveLength(0);
  });

  it.each([
    [{ limit: 0, leaseMs: 1000, holder: 'a' }, 'acquireSlot limit must be an integer from 1 to 100; got 0'],
    [
      { limit: 101, leaseMs: 1000, holder: 'a' },
      'acquireSlot limit must be an integer from 1 to 100; got 101',
    ],
    [
      { limit: 1.5, leaseMs: 1000, holder: 'a' },
      'acquireSlot limit must be an integer from 1 to 100; got 1.5',
    ],
    [{ limit: 3, leaseMs: 0, holder: 'a' }, 'acquireSlot leaseMs must be a number of ms > 0; got 0'],
    [{ limit: 3, leaseMs: 1000, holder: '' }, 'acquireSlot holder must be a non-empty string; got ""'],
  ])('acquireSlot refuses %o, naming the field and the value', async (input, message) => {
    // Act
    const acquiring = limits.acquireSlot({ id, ...input });

    // Assess
    await expect(acquiring).rejects.toThrow(ConfigError);
    await expect(acquiring).rejects.toThrow(message);
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe('takeToken error paths', () => {
  it('propagates throttling instead of allowing or denying', async () => {
    // Prepare
    ddb.on(UpdateItemCommand).rejects(throttled());

    // Act
    const taking = limits.takeToken({ id, limit: 5, intervalMs: 10_000 });

    // Assess
    await expect(taking).rejects.toThrow(ProvisionedThroughputExceededException);
  });

  it('propagates throttling of the second write (tokens left, bucket not idle)', async () => {
    // Prepare
    ddb
      .on(UpdateItemCommand)
      .rejectsOnce(conditionFailed({ jobId: { S: id }, tat: { N: String(now + 2000) } }))
      .rejectsOnce(throttled());

    // Act
    const taking = limits.takeToken({ id, limit: 5, intervalMs: 10_000 });

    // Assess
    await expect(taking).rejects.toThrow(ProvisionedThroughputExceededException);
    expect(ddb.commandCalls(UpdateItemCommand)).toHaveLength(2);
  });

  it('denies from the item the failed condition returns: one write, no read', async () => {
    // Prepare: T = 2 s, tolerance 8 s; tat 10.5 s ahead → the next token in 2.5 s
    ddb
      .on(UpdateItemCommand)
      .rejects(conditionFailed({ jobId: { S: id }, tat: { N: String(now + 10_500) } }));

    // Act
    const decision = await limits.takeToken({ id, limit: 5, intervalMs: 10_000 });

    // Assess
    expect(decision).toEqual({ allowed: false, retryAfterMs: 2500 });
    expect(ddb.commandCalls(UpdateItemCommand)).toHaveLength(1);
    expect(ddb.commandCalls(GetItemCommand)).toHaveLength(0);
    expect(ddb.commandCalls(UpdateItemCommand)[0].args[0].input).toMatchObject({
      ConditionExpression: 'attribute_not_exists(#tat) OR #tat <= :now',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
  });

  it('denies from the item returned when a racer took the last token between the two writes', async () => {
    // Prepare
    ddb
      .on(UpdateItemCommand)
      .rejectsOnce(conditionFailed({ jobId: { S: id }, tat: { N: String(now + 8000) } }))
      .rejectsOnce(conditionFailed({ jobId: { S: id }, tat: { N: String(now + 10_000) } }));

    // Act
    const decision = await limits.takeToken({ id, limit: 5, intervalMs: 10_000 });

    // Assess
    expect(decision).toEqual({ allowed: false, retryAfterMs: 2000 });
    const take = ddb.commandCalls(UpdateItemCommand)[1].args[0].input;
    expect(take.UpdateExpression).toBe('SET #tat = #tat + :tat, #expiresAt = :expiresAt');
    expect(take.ConditionExpression).toBe('#tat <= :max');
    expect(take.ExpressionAttributeValues).toMatchObject({
      ':tat': { N: '2000' },
      ':max': { N: String(now + 8000) },
    });
  });
});

describe('acquireSlot / releaseSlot error paths', () => {
  const input = { id: '~conc#test', limit: 2, holder: 'me', leaseMs: 60_000 };

  it('propagates throttling', async () => {
    // Prepare
    ddb.on(UpdateItemCommand).rejects(throttled());

    // Act
    const acquiring = limits.acquireSlot(input);
    const releasing = limits.releaseSlot({ id: input.id, holder: 'me' });

    // Assess
    await expect(acquiring).rejects.toThrow(ProvisionedThroughputExceededException);
    await expect(releasing).rejects.toThrow(ProvisionedThroughputExceededException);
  });

  it('denies from the returned map: live holders and the earliest lease end', async () => {
    // Prepare
    ddb
      .on(UpdateItemCommand)
      .rejects(
        conditionFailed({ holders: { M: { a: { N: String(now + 5000) }, b: { N: String(now + 90_000) } } } }),
      );

    // Act
    const decision = await limits.acquireSlot(input);

    // Assess
    expect(decision).toEqual({ acquired: false, running: 2, retryAfterMs: 5000 });
    expect(ddb.commandCalls(UpdateItemCommand)).toHaveLength(1);
  });

  it('removes only the ended leases, each under the value seen, then retries once', async () => {
    // Prepare
    ddb
      .on(UpdateItemCommand)
      .rejectsOnce(
        conditionFailed({ holders: { M: { old: { N: String(now - 1) }, b: { N: String(now + 500) } } } }),
      )
      .resolvesOnce({})
      .rejectsOnce(
        conditionFailed({ holders: { M: { c: { N: String(now + 500) }, b: { N: String(now + 500) } } } }),
      );

    // Act
    const decision = await limits.acquireSlot(input);

    // Assess: a racer filled the freed slot; the wait is clamped up to 1 s
    expect(decision).toEqual({ acquired: false, running: 2, retryAfterMs: 1000 });
    const calls = ddb.commandCalls(UpdateItemCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(3);
    expect(calls[1]).toMatchObject({
      UpdateExpression: 'REMOVE #holders.#h0',
      ConditionExpression: '#holders.#h0 = :v0',
      ExpressionAttributeNames: { '#holders': 'holders', '#h0': 'old' },
      ExpressionAttributeValues: { ':v0': { N: String(now - 1) } },
    });
  });

  it('release treats a failed condition (no such holder or item) as done', async () => {
    // Prepare
    ddb.on(UpdateItemCommand).rejects(conditionFailed());

    // Act
    const releasing = limits.releaseSlot({ id: input.id, holder: 'me' });

    // Assess
    await expect(releasing).resolves.toBeUndefined();
  });
});
