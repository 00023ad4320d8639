/**
 * The late outcome of a timed-out handler that ignored its abort signal (keepAbandonedLease):
 * its ledger write is retried while the lease is still extended, and both stop in bounded time.
 */
import { DynamoDBClient, UpdateItemCommand, type UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type AbandonedRun, keepAbandonedLease } from '../../../lambdas/consumer/completion';
import type { ProcessDeps } from '../../../lambdas/consumer/process-record';
import { Ledger } from '../../../lambdas/ledger/ledger';

const ddb = mockClient(DynamoDBClient);
const warn = vi.fn();
const run: AbandonedRun = {
  jobId: 'j1',
  owner: 'owner-a',
  type: 'stubborn',
  enqueuedAt: '2025-06-01T11:59:00.000Z',
  startedAt: '2025-06-01T12:00:00.000Z',
  // Lease extended every 1000 ms (a third of the lease, at least 1 s).
  leaseMs: 3000,
};

function deps(): ProcessDeps {
  const ledger = new Ledger({
    client: new DynamoDBClient({ region: 'us-east-1' }),
    tableName: 't',
    ttlSeconds: 3600,
  });
  return {
    ledger,
    config: { lane: 'default' },
    logger: { warn },
    random: () => 0.999,
    // Backoff sleeps on the same (fake) clock as the lease extension.
    sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
  } as unknown as ProcessDeps;
}

function throttled() {
  const error = new Error('Rate of requests exceeds the allowed throughput');
  error.name = 'ProvisionedThroughputExceededException';
  return error;
}

/** The UpdateItem calls so far, by kind: the status written, or 'extend' for a lease extension. */
function writes(): string[] {
  return ddb
    .commandCalls(UpdateItemCommand)
    .map(
      (c) =>
        (c.args[0].input as UpdateItemCommandInput).ExpressionAttributeValues?.[':status']?.S ?? 'extend',
    );
}

/** Fails the writes of `status` `failures` times (Infinity: always), answers the rest. */
function failStatusWrites(status: string, failures: number) {
  let failed = 0;
  ddb.on(UpdateItemCommand).callsFake((input: UpdateItemCommandInput) => {
    if (input.ExpressionAttributeValues?.[':status']?.S === status && failed < failures) {
      failed++;
      return Promise.reject(throttled());
    }
    return Promise.resolve({});
  });
}

beforeEach(() => {
  vi.useFakeTimers();
  ddb.reset();
  warn.mockReset();
});

afterEach(() => vi.useRealTimers());

describe('keepAbandonedLease: the late outcome write', () => {
  it('retries a throttled late SUCCEEDED write, keeping the lease extended until it is written', async () => {
    // Prepare: the write fails 4 times (backoff 199 + 399 + 799 + 1599 ms), the 5th is written
    failStatusWrites('SUCCEEDED', 4);
    let settle: (value: { ok: true; result: unknown }) => void = () => undefined;
    const settled = new Promise<{ ok: true; result: unknown }>((resolve) => {
      settle = resolve;
    });
    void keepAbandonedLease(settled, run, deps());
    await vi.advanceTimersByTimeAsync(1500);

    // Act
    settle({ ok: true, result: 'late' });
    await vi.advanceTimersByTimeAsync(10_000);

    // Assess: extensions went on between the retries, and stopped once SUCCEEDED was written
    const calls = writes();
    expect(calls.filter((w) => w === 'SUCCEEDED')).toHaveLength(5);
    const firstTry = calls.indexOf('SUCCEEDED');
    const written = calls.lastIndexOf('SUCCEEDED');
    expect(calls.slice(firstTry, written).filter((w) => w === 'extend').length).toBeGreaterThanOrEqual(2);
    expect(calls.slice(written + 1)).toEqual([]);
    expect(warn).not.toHaveBeenCalled();
  });

  it('retries a late FAILED write the same way', async () => {
    // Prepare
    failStatusWrites('FAILED', 2);

    // Act
    void keepAbandonedLease(Promise.resolve({ ok: false, error: new Error('late failure') }), run, deps());
    await vi.advanceTimersByTimeAsync(10_000);

    // Assess
    expect(writes()).toEqual(['FAILED', 'FAILED', 'FAILED']);
    expect(warn).not.toHaveBeenCalled();
  });

  it('gives up after its retries, says so, and stops extending the lease', async () => {
    // Prepare
    failStatusWrites('SUCCEEDED', Number.POSITIVE_INFINITY);

    // Act
    void keepAbandonedLease(Promise.resolve({ ok: true, result: 'late' }), run, deps());
    await vi.advanceTimersByTimeAsync(10_000);
    const atGiveUp = writes().length;
    await vi.advanceTimersByTimeAsync(10_000);

    // Assess
    expect(writes().filter((w) => w === 'SUCCEEDED')).toHaveLength(5);
    expect(writes()).toHaveLength(atGiveUp);
    expect(warn).toHaveBeenCalledWith(
      'abandoned run: late SUCCEEDED write failed',
      expect.objectContaining({
        jobId: 'j1',
        error: expect.objectContaining({ type: 'ProvisionedThroughputExceededException' }),
      }),
    );
  });

  it('optimistic (no owner): retries the unowned SUCCEEDED write', async () => {
    // Prepare
    failStatusWrites('SUCCEEDED', 1);

    // Act
    void keepAbandonedLease(Promise.resolve({ ok: true, result: 1 }), { ...run, owner: undefined }, deps());
    await vi.advanceTimersByTimeAsync(10_000);

    // Assess
    expect(writes()).toEqual(['SUCCEEDED', 'SUCCEEDED']);
  });
});
