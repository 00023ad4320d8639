/**
 * The sqs-jobs CLI against the deployed example stack on LocalStack. Commands run in-process
 * through `main(argv, io)`; their effects are checked in SQS and the ledger directly. One test
 * spawns the real executable.
 *
 * Lanes keep the scenarios apart: `high` DLQ for list / delete / purge (jobs that fail
 * permanently), `default` DLQ for retry, `low` DLQ for redrive (jobs that fail every attempt the
 * lane allows, so they die first and succeed on the first run once sent back).
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../cli/errors';
import { main } from '../../cli/main';
import type { JobRecord } from '../../lambdas/shared/contract';
import { type DeployedStack, deployedStack } from '../../scripts/local/deployed-stack';
import { envelopeId, peekMessages, waitFor, waitForStatus } from './helpers';

const ROOT = path.resolve(__dirname, '..', '..');

let stack: DeployedStack;

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function cli(...argv: string[]): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const code = await main([...argv, '--stack', stack.stackName], {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    isTTY: false,
  });
  return { code, stdout, stderr };
}

async function cliJson<T = Record<string, unknown>>(...argv: string[]): Promise<T> {
  const result = await cli(...argv, '--json');
  expect(result.code, result.stderr).toBe(EXIT.ok);
  return JSON.parse(result.stdout) as T;
}

async function enqueue(type: string, payload: unknown, lane?: string): Promise<string> {
  const args = ['enqueue', type, '--payload', JSON.stringify(payload), ...(lane ? ['--lane', lane] : [])];
  return (await cliJson<{ jobId: string }>(...args)).jobId;
}

async function dlqIds(lane: string): Promise<string[]> {
  const messages = await peekMessages(stack.sqs, stack.config.lanes[lane].dlqUrl, 200);
  return messages.map(envelopeId).filter((id): id is string => id !== undefined);
}

async function depth(queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const out = await stack.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(out.Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

function waitInDlq(lane: string, ids: readonly string[], timeoutMs = 300_000): Promise<true> {
  return waitFor(
    `${ids.join(', ')} in the ${lane} DLQ`,
    async () => {
      const present = await dlqIds(lane);
      return ids.every((id) => present.includes(id)) ? true : undefined;
    },
    { timeoutMs, intervalMs: 2000 },
  );
}

// Jobs that fail (retryably) on each of the lane's 4 attempts, then succeed on the 5th: once sent
// back from the DLQ. Counted in attempts, not time: a slow machine cannot make them succeed early.
const failTimes = 4;
let retryJob: string;
let redriveJobs: string[];
let permanentJobs: string[];

beforeAll(async () => {
  stack = await deployedStack();
  expect(stack.config.lanes.default.maxAttempts).toBe(failTimes);
  expect(stack.config.lanes.low.maxAttempts).toBe(failTimes);
  // Start the slow scenarios first; the fast ones run while these die.
  retryJob = await enqueue('flaky-task', { failTimes });
  redriveJobs = [
    await enqueue('flaky-task', { failTimes }, 'low'),
    await enqueue('flaky-task', { failTimes }, 'low'),
  ];
  permanentJobs = [
    await enqueue('flaky-task', { permanent: true }, 'high'),
    await enqueue('flaky-task', { permanent: true }, 'high'),
  ];
});

describe('sqs-jobs CLI on LocalStack', () => {
  it('enqueue runs a job to SUCCEEDED, and status shows its record', async () => {
    // Act
    const jobId = await enqueue('send-email', { to: 'cli@example.com', subject: 'from the CLI' });

    // Assess
    await waitForStatus(stack, jobId, ['SUCCEEDED']);
    const record = await cliJson<JobRecord>('status', jobId);
    expect(record).toMatchObject({
      jobId,
      type: 'send-email',
      lane: 'high',
      status: 'SUCCEEDED',
      attempts: 1,
    });
    expect(record.result).toMatchObject({ to: 'cli@example.com' });
    const text = await cli('status', jobId);
    expect(text.stdout).toMatch(/^status\s+SUCCEEDED$/m);
  });

  it('enqueue rejects bad payloads (4) and unknown lanes (3) without sending', async () => {
    // Prepare
    const before = await depth(stack.config.lanes.high.queueUrl);

    // Act
    const badJson = await cli('enqueue', 'send-email', '--payload', '{"to":');
    const badSchema = await cli('enqueue', 'send-email', '--payload', '{"to":"not-an-email","subject":"x"}');
    const badLane = await cli('enqueue', 'flaky-task', '--lane', 'urgent');

    // Assess
    expect(badJson.code).toBe(EXIT.validation);
    expect(badSchema.code).toBe(EXIT.validation);
    expect(badSchema.stderr).toMatch(/Invalid payload for job 'send-email' at 'to'/);
    expect(badLane.code).toBe(EXIT.notFound);
    expect(await depth(stack.config.lanes.high.queueUrl)).toEqual(before);
  });

  it('reports unknown stacks, lanes and job ids (3) and an unreachable endpoint (5)', async () => {
    // Act
    const noStack = await main(['stats', '--stack', 'NoSuchStack'], {
      stdout: () => undefined,
      stderr: () => undefined,
    });
    const noLane = await cli('dlq', 'list', 'urgent');
    const noJob = await cli('status', 'no-such-job');
    const unreachable = await cli('stats', '--endpoint-url', 'http://127.0.0.1:1');

    // Assess
    expect(noStack).toBe(EXIT.notFound);
    expect(noLane.code).toBe(EXIT.notFound);
    expect(noJob.code).toBe(EXIT.notFound);
    expect(unreachable.code).toBe(EXIT.aws);
    expect(unreachable.stderr).toMatch(/Cannot reach the AWS endpoint http:\/\/127.0.0.1:1/);
  });

  it('dlq list shows dead jobs with their error and leaves the DLQ unchanged', async () => {
    // Prepare
    await waitInDlq('high', permanentJobs);
    const dlqUrl = stack.config.lanes.high.dlqUrl;
    const before = await depth(dlqUrl);

    // Act
    const out = await cliJson<{
      jobs: {
        jobId: string;
        type: string;
        error: string;
        attempts: number;
        firstFailedAt: string;
        lastFailedAt: string;
      }[];
    }>('dlq', 'list', 'high');

    // Assess
    const listed = out.jobs.filter((j) => permanentJobs.includes(j.jobId));
    expect(listed).toHaveLength(2);
    for (const job of listed) {
      expect(job).toMatchObject({ type: 'flaky-task', attempts: 1 });
      expect(job.error).toMatch(/^PermanentJobError: payload asked for a permanent failure/);
      expect(Date.parse(job.firstFailedAt)).toBeLessThanOrEqual(Date.parse(job.lastFailedAt));
    }
    // Released at once: the same messages are visible again, none in flight because of us.
    expect(await depth(dlqUrl)).toEqual(before);
    expect(await dlqIds('high')).toEqual(expect.arrayContaining(permanentJobs));
    const table = await cli('dlq', 'list', 'high');
    expect(table.stdout).toMatch(
      new RegExp(`^${permanentJobs[0]}\\s+flaky-task\\s+1\\s+PermanentJobError`, 'm'),
    );
  });

  it('stats shows lane depths and the DLQ depth', async () => {
    // Act
    const stats = await cliJson<{
      lanes: { lane: string; dlq: number }[];
      alarms: { name: string; state: string }[];
    }>('stats');
    const top = await cli('top', '--iterations', '1', '--json');

    // Assess
    expect(stats.lanes.map((l) => l.lane).sort()).toEqual(['default', 'high', 'low', 'ordered']);
    expect(stats.lanes.find((l) => l.lane === 'high')?.dlq).toBeGreaterThanOrEqual(2);
    expect(Array.isArray(stats.alarms)).toBe(true);
    expect(top.code).toBe(EXIT.ok);
    expect(JSON.parse(top.stdout.trim()).lanes).toHaveLength(4);
  });

  it('dlq delete removes one job from the DLQ and keeps the ledger DEAD', async () => {
    // Act
    const result = await cli('dlq', 'delete', 'high', permanentJobs[0]);

    // Assess
    expect(result.code, result.stderr).toBe(EXIT.ok);
    const present = await dlqIds('high');
    expect(present).not.toContain(permanentJobs[0]);
    expect(present).toContain(permanentJobs[1]);
    expect((await stack.client.getJob(permanentJobs[0]))?.status).toBe('DEAD');
  });

  it('dlq purge refuses without --yes, then empties the DLQ', async () => {
    // Prepare
    const dlqUrl = stack.config.lanes.high.dlqUrl;
    const before = await depth(dlqUrl);

    // Act
    const refused = await cli('dlq', 'purge', 'high');
    const unchanged = await depth(dlqUrl);
    const purged = await cli('dlq', 'purge', 'high', '--yes');

    // Assess
    expect(refused.code).toBe(EXIT.usage);
    expect(unchanged).toEqual(before);
    expect(purged.code, purged.stderr).toBe(EXIT.ok);
    await waitFor('the high DLQ to be empty', async () => {
      const d = await depth(dlqUrl);
      return d.visible + d.inFlight === 0 ? true : undefined;
    });
  });

  it('dlq retry sends a dead job back to its lane, where it ends SUCCEEDED', async () => {
    // Prepare: the job died on all its attempts (ledger DEAD) and SQS moved it to the DLQ.
    await waitInDlq('default', [retryJob]);
    expect((await stack.client.getJob(retryJob))?.status).toBe('DEAD');
    const listed = await cliJson<{ jobs: { jobId: string; error: string; attempts: number }[] }>(
      'dlq',
      'list',
      'default',
    );
    expect(listed.jobs.find((j) => j.jobId === retryJob)).toMatchObject({ attempts: 4 });
    expect(listed.jobs.find((j) => j.jobId === retryJob)?.error).toMatch(/planned failure 4 of 4/);

    // Act
    const result = await cliJson<{ action: string; jobId: string }>('dlq', 'retry', 'default', retryJob);

    // Assess
    expect(result).toMatchObject({ action: 'retried', jobId: retryJob });
    expect(await dlqIds('default')).not.toContain(retryJob);
    const record = await waitForStatus(stack, retryJob, ['SUCCEEDED']);
    expect(record.attempts).toBe(5);
  });

  it('dlq redrive moves the DLQ back to its lane with progress, and the jobs end SUCCEEDED', async () => {
    // Prepare
    await waitInDlq('low', redriveJobs);

    // Act
    const result = await cli('dlq', 'redrive', 'low', '--rate', '50');

    // Assess
    expect(result.code, result.stderr).toBe(EXIT.ok);
    expect(result.stdout).toMatch(/^Moved \d+ of \d+ messages from the low DLQ back to the lane\.$/m);
    expect(result.stderr).toMatch(/low DLQ → low: \[[#-]+\] \d+\/\d+/);
    await Promise.all(redriveJobs.map((id) => waitForStatus(stack, id, ['SUCCEEDED'])));
    const left = await dlqIds('low');
    for (const id of redriveJobs) expect(left).not.toContain(id);
  });

  it('schedules lists the nightly cron and a delayed job with their next firing', async () => {
    // Prepare: a delay over 15 minutes becomes a one-time at() schedule.
    const before = Date.now();
    const delayed = await cliJson<{ scheduleName: string }>(
      'enqueue',
      'nightly-cleanup',
      '--payload',
      '{}',
      '--delay',
      '3600',
    );

    // Act
    const out = await cliJson<{
      schedules: {
        name: string;
        expression: string;
        nextFiring: string | null;
        lane?: string;
        jobType?: string;
      }[];
    }>('schedules');
    const after = Date.now();

    // Assess
    const cron = out.schedules.find((s) => s.expression === 'cron(0 3 * * ? *)');
    expect(cron).toMatchObject({ lane: 'low', jobType: 'nightly-cleanup' });
    const next = new Date(cron?.nextFiring ?? 0);
    expect(next.getUTCHours()).toBe(3);
    expect(next.getTime()).toBeGreaterThan(before);
    expect(next.getTime() - after).toBeLessThanOrEqual(24 * 3600_000);
    // Due an hour after the enqueue, whenever during the commands that was (at() has whole seconds).
    const oneTime = Date.parse(out.schedules.find((s) => s.name === delayed.scheduleName)?.nextFiring ?? '');
    expect(oneTime).toBeGreaterThanOrEqual(before + 3600_000 - 1_000);
    expect(oneTime).toBeLessThanOrEqual(after + 3600_000 + 1_000);
  });

  it('the real executable prints a job status for scripts', () => {
    // Act
    const child = spawnSync(
      path.join(ROOT, 'node_modules', '.bin', 'tsx'),
      ['bin/sqs-jobs.ts', 'status', retryJob, '--json', '--stack', stack.stackName],
      { cwd: ROOT, encoding: 'utf8', env: process.env },
    );

    // Assess
    expect(child.status, child.stderr).toBe(0);
    expect(JSON.parse(child.stdout)).toMatchObject({ jobId: retryJob, status: 'SUCCEEDED' });
  });
});
