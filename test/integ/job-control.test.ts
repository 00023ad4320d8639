/**
 * Job control end to end on LocalStack: cancel (queued, delayed on a schedule, running), tenants
 * (the group id on the message, the tenant in the ledger and logs), concurrency and rate limits
 * across consumers, and debounce (last and first payload).
 */
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { GetScheduleCommand } from '@aws-sdk/client-scheduler';
import { CreateQueueCommand, DeleteQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { registry } from '../../bin/jobs';
import { JobClient } from '../../lambdas/client';
import { type DeployedStack, deployedStack } from '../../scripts/local/deployed-stack';
import { consumerLogLines, waitFor, waitForStatus } from './helpers';

let stack: DeployedStack;
const logs = new CloudWatchLogsClient({});
/** The default lane's consumer: every job type of this file runs there. */
const consumer = () => stack.config.lanes.default.functionName;
beforeAll(async () => {
  stack = await deployedStack();
});

/** Unique per run, so a rerun on a long-lived LocalStack never shares a limit or a window. */
const run = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;

interface Ran {
  readonly startedAt: number;
  readonly finishedAt: number;
}

describe('cancel', () => {
  it('a delayed job cancelled before it is due never runs, and its delivery is acknowledged unrun', async () => {
    const { jobId } = await stack.client.enqueue('long-task', { sleepMs: 0 }, { delaySeconds: 5 });

    const cancelled = await stack.client.cancel(jobId);

    expect(cancelled).toMatchObject({ jobId, outcome: 'cancelled', status: 'CANCELLED' });
    // Its message is still delivered when due: the consumer's outcome line says it acknowledged
    // it without running it.
    const [line] = await waitFor('the consumer to acknowledge the cancelled delivery', async () => {
      const lines = await consumerLogLines(logs, consumer(), jobId);
      const outcomes = lines.filter((l) => l.message === 'job outcome');
      return outcomes.length > 0 ? outcomes : undefined;
    });
    expect(line).toMatchObject({ jobId, status: 'CANCELLED', ran: false });
    const record = await stack.client.getJob(jobId);
    expect(record).toMatchObject({ status: 'CANCELLED', attempts: 0 });
    expect(record?.startedAt).toBeUndefined();
  });

  it('a job waiting in a one-time schedule is cancelled by id and its schedule deleted', async () => {
    const { jobId, scheduleName } = await stack.client.enqueue(
      'long-task',
      { sleepMs: 0 },
      { delaySeconds: 3600 },
    );

    const cancelled = await stack.client.cancel(jobId);

    expect(cancelled).toMatchObject({ outcome: 'cancelled', status: 'CANCELLED', scheduleDeleted: true });
    await expect(
      stack.scheduler.send(
        new GetScheduleCommand({ GroupName: stack.config.scheduleGroup, Name: scheduleName }),
      ),
    ).rejects.toThrow(/not found|does not exist/i);
    expect(await stack.client.getJob(jobId)).toMatchObject({ status: 'CANCELLED', attempts: 0 });
  });

  it('a keyed job is cancelled by type and key; cancelling it again is a no-op that says so', async () => {
    const key = `cancel-by-key-${run}`;
    const { jobId } = await stack.client.enqueue(
      'long-task',
      { sleepMs: 0 },
      { idempotencyKey: key, delaySeconds: 3600 },
    );

    const first = await stack.client.cancel({ type: 'long-task', key });
    const again = await stack.client.cancel(jobId);

    expect(first).toMatchObject({ jobId, outcome: 'cancelled', previousStatus: 'ENQUEUED' });
    expect(again).toMatchObject({ outcome: 'already-finished', status: 'CANCELLED' });
    expect(again.message).toMatch(/already CANCELLED.*nothing to cancel/);
  });

  it('a running job sees its abort signal within a heartbeat and ends CANCELLED: not retried, not dead-lettered', async () => {
    const { jobId } = await stack.client.enqueue('long-task', { sleepMs: 6_000 });
    await waitForStatus(stack, jobId, ['RUNNING']);

    const asked = await stack.client.cancel(jobId);

    expect(asked).toMatchObject({ outcome: 'cancelling', status: 'RUNNING' });
    const done = await waitForStatus(stack, jobId, ['CANCELLED', 'SUCCEEDED', 'DEAD']);
    expect(done).toMatchObject({ status: 'CANCELLED', attempts: 1 });
    expect(done.lastError).toMatch(/JobCancelledError/);
    // It stopped at the signal (checked every second), well before its 6 s sleep would have ended.
    expect(Date.parse(done.finishedAt ?? '') - Date.parse(done.startedAt ?? '')).toBeLessThan(6_000);
    expect(await stack.client.cancel(jobId)).toMatchObject({ outcome: 'already-finished' });
  });
});

describe('tenants', () => {
  it('sends the tenant as the MessageGroupId of a standard queue, and LocalStack keeps it', async () => {
    // A real queue of our own, so no consumer takes the messages before they are read back.
    const { QueueUrl } = await stack.sqs.send(new CreateQueueCommand({ QueueName: `tenant-probe-${run}` }));
    try {
      const lane = stack.config.lanes.default;
      const client = JobClient.fromConfig(
        { ...stack.config, lanes: { ...stack.config.lanes, default: { ...lane, queueUrl: QueueUrl ?? '' } } },
        { registry },
      );
      await client.enqueue('sync-account', { tenant: 'acme' });
      await client.enqueue('sync-account', { tenant: 'acme' }, { tenant: 'globex' });
      await client.enqueueBatch([{ type: 'sync-account', payload: { tenant: 'initech' } }]);

      const messages = await waitFor('three messages', async () => {
        const out = await stack.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['MessageGroupId'],
          }),
        );
        return (out.Messages?.length ?? 0) === 3 ? out.Messages : undefined;
      });

      const groups = messages.map((m) => [m.Attributes?.MessageGroupId, JSON.parse(m.Body ?? '{}').tenant]);
      expect(groups.sort()).toEqual([
        ['acme', 'acme'],
        ['globex', 'globex'],
        ['initech', 'initech'],
      ]);
    } finally {
      await stack.sqs.send(new DeleteQueueCommand({ QueueUrl }));
    }
  });

  it('runs each tenant’s jobs with the tenant in the ledger, the handler and per-tenant metrics', async () => {
    const tenants = [`a-${run}`, `b-${run}`];
    const jobs = await Promise.all(
      tenants.flatMap((tenant) => [1, 2].map(() => stack.client.enqueue('sync-account', { tenant }))),
    );

    const done = await Promise.all(jobs.map((j) => waitForStatus(stack, j.jobId, ['SUCCEEDED'])));

    expect(done.map((d) => d.tenant).sort()).toEqual([tenants[0], tenants[0], tenants[1], tenants[1]]);
    expect(done.map((d) => (d.result as { tenant: string }).tenant).sort()).toEqual(
      done.map((d) => d.tenant).sort(),
    );
    for (const tenant of tenants) {
      // Per-tenant accounting: the EMF documents with the Tenant dimension count this tenant's jobs.
      // (Success outcome lines are debug lines, not written at the stack's default INFO level; the
      // tenant on every outcome line is a unit test: test/unit/lambdas/job-control.test.ts.)
      const counted = await waitFor(`per-tenant metrics of ${tenant}`, async () => {
        const lines = await consumerLogLines(logs, consumer(), tenant);
        const emf = lines.filter((l) => l._aws !== undefined && l.Tenant === tenant);
        const succeeded = emf.reduce((sum, l) => sum + Number(l.JobSucceeded ?? 0), 0);
        return succeeded === 2 ? { emf } : undefined;
      });
      const dimensions = (counted.emf[0]._aws as { CloudWatchMetrics: { Dimensions: string[][] }[] })
        .CloudWatchMetrics[0].Dimensions;
      expect(dimensions).toEqual([['JobType', 'Lane', 'Tenant']]);
    }
  });
});

describe('limits', () => {
  it('never runs more than 2 jobs of one tenant at once, across consumers, and a deferral uses no attempt', async () => {
    const tenant = `conc-${run}`;
    const jobs = await stack.client.enqueueBatch(
      Array.from({ length: 6 }, () => ({
        type: 'sync-account-concurrent' as const,
        payload: { tenant, sleepMs: 1_500 },
      })),
    );
    expect(jobs.every((j) => j.ok)).toBe(true);

    const done = await Promise.all(
      jobs.map((j) => waitForStatus(stack, j.ok ? j.jobId : '', ['SUCCEEDED', 'DEAD'])),
    );

    expect(done.map((d) => [d.status, d.attempts])).toEqual(done.map(() => ['SUCCEEDED', 1]));
    const runs = done.map((d) => d.result as Ran);
    expect(maxOverlap(runs)).toBeLessThanOrEqual(2);
  });

  it('starts at most 2 jobs per 20 s for one tenant (token bucket), deferring the rest without using attempts', async () => {
    const tenant = `rate-${run}`;
    const jobs = await stack.client.enqueueBatch(
      Array.from({ length: 4 }, () => ({ type: 'sync-account-rated' as const, payload: { tenant } })),
    );

    const done = await Promise.all(
      jobs.map((j) => waitForStatus(stack, j.ok ? j.jobId : '', ['SUCCEEDED', 'DEAD'])),
    );

    expect(done.map((d) => [d.status, d.attempts])).toEqual(done.map(() => ['SUCCEEDED', 1]));
    const starts = done.map((d) => (d.result as Ran).startedAt).sort((a, b) => a - b);
    // Two tokens at once, then one every 10 s: the third token is at least 10 s after the first
    // and the fourth at least 20 s. A handler starts after its token; the first handler started
    // at most its claim write after the first token (5 s is far beyond that).
    expect(starts[2] - starts[0]).toBeGreaterThanOrEqual(10_000 - 5_000);
    expect(starts[3] - starts[0]).toBeGreaterThanOrEqual(20_000 - 5_000);
    // Refused deliveries were deferred, not failed: the consumer logged them LIMITED, naming the
    // rate limit and a delay of at least a second (never a busy loop). How many there were depends
    // on delivery timing; the start spacing above is what proves the limit.
    const lines = (await Promise.all(done.map((d) => consumerLogLines(logs, consumer(), d.jobId)))).flat();
    const limited = lines.filter((l) => l.status === 'LIMITED');
    expect(limited.map((l) => [l.limit, Number(l.retryAfterSeconds) >= 1])).toEqual(
      limited.map(() => ['rate', true]),
    );
    expect(lines.filter((l) => l.status === 'RETRY' || l.status === 'DEAD')).toEqual([]);
  });
});

describe('debounce', () => {
  it("keep 'last': five enqueues within a window run once per window, with the window's last payload", async () => {
    const index = `products-${run}`;
    const results = [];
    for (let version = 1; version <= 5; version++) {
      results.push({ version, result: await stack.client.enqueue('reindex-search', { index, version }) });
    }
    expect(results.every((r) => r.result.status === 'debounced' && r.result.windowEndsAt)).toBe(true);
    const windows = new Map<string, number>();
    for (const { version, result } of results) {
      windows.set(result.jobId, Math.max(windows.get(result.jobId) ?? 0, version));
    }
    // Each window is one job: as many job ids as distinct window ends; five enqueues made in
    // under 15 s share a 5-s window at least twice, so at least one window folded enqueues.
    expect(new Set(results.map((r) => r.result.windowEndsAt)).size).toBe(windows.size);
    expect(windows.size).toBeLessThan(results.length);

    for (const [jobId, lastVersion] of windows) {
      const done = await waitForStatus(stack, jobId, ['SUCCEEDED', 'DEAD']);
      expect(done).toMatchObject({
        status: 'SUCCEEDED',
        attempts: 1,
        result: { index, version: lastVersion },
      });
      expect(Date.parse(done.startedAt ?? '')).toBeGreaterThanOrEqual(
        Date.parse(results.find((r) => r.result.jobId === jobId)?.result.windowEndsAt ?? ''),
      );
    }
  });

  it("keep 'first': the first enqueue of a window runs at once with its payload, the rest are dropped", async () => {
    const user = `user-${run}`;
    const results = [];
    for (let n = 1; n <= 4; n++) {
      results.push({ n, result: await stack.client.enqueue('notify-user', { user, message: `m${n}` }) });
    }
    const windows = new Map<string, number>();
    for (const { n, result } of results) {
      if (!windows.has(result.jobId)) {
        expect(result.status).toBe('enqueued');
        windows.set(result.jobId, n);
      } else {
        expect(result.status).toBe('debounced');
      }
    }
    expect(windows.size).toBeLessThan(results.length);

    for (const [jobId, first] of windows) {
      const done = await waitForStatus(stack, jobId, ['SUCCEEDED', 'DEAD']);
      expect(done).toMatchObject({
        status: 'SUCCEEDED',
        attempts: 1,
        result: { user, message: `m${first}` },
      });
    }
  });
});

/** The largest number of runs whose [startedAt, finishedAt) intervals overlap at one moment. */
function maxOverlap(runs: readonly Ran[]): number {
  const events = runs.flatMap((r) => [
    { at: r.startedAt, delta: 1 },
    { at: r.finishedAt, delta: -1 },
  ]);
  // Ends before starts at the same instant: back-to-back runs do not overlap.
  events.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let current = 0;
  let max = 0;
  for (const e of events) {
    current += e.delta;
    max = Math.max(max, current);
  }
  return max;
}
