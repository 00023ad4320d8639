/**
 * Scheduled and delayed jobs. LocalStack stores schedules but never fires them, so the
 * Scheduler stand-in (scripts/local/scheduler-stand-in.ts) delivers their target input.
 */
import { GetScheduleCommand } from '@aws-sdk/client-scheduler';
import { beforeAll, describe, expect, it } from 'vitest';
import { type DeployedStack, deployedStack } from '../../scripts/local/deployed-stack';
import { SchedulerStandIn } from '../../scripts/local/scheduler-stand-in';
import { envelopeId, peekMessages, waitFor, waitForStatus } from './helpers';

let stack: DeployedStack;
let standIn: SchedulerStandIn;
beforeAll(async () => {
  stack = await deployedStack();
  standIn = new SchedulerStandIn(stack.scheduler, stack.sqs);
});

describe.concurrent('schedules', () => {
  it('runs a cron firing once when Scheduler delivers the same scheduled time twice', async () => {
    const group = stack.config.scheduleGroup;
    const [cron] = (await standIn.list(group)).filter((s) => s.ScheduleExpression?.startsWith('cron('));
    expect(cron?.ScheduleExpression).toBe('cron(0 3 * * ? *)');
    // Now, to the second: unique per run, so a rerun on a long-lived LocalStack never collides.
    const scheduledTime = new Date();
    const first = await standIn.fire(group, cron.Name ?? '', scheduledTime);
    const second = await standIn.fire(group, cron.Name ?? '', scheduledTime);
    expect(second.scheduledTime).toBe(first.scheduledTime);
    const prefix = JSON.parse(cron.Target?.Input ?? '{}').id.split('<')[0];
    const jobId = `${prefix}${first.scheduledTime}`;
    const done = await waitForStatus(stack, jobId, ['SUCCEEDED']);
    expect(done).toMatchObject({ type: 'nightly-cleanup', lane: 'low', result: { olderThanDays: 30 } });
    await waitFor(
      'both firings to be consumed',
      async () => {
        const left = await peekMessages(stack.sqs, stack.config.lanes.low.queueUrl);
        return left.some((m) => envelopeId(m) === jobId) ? undefined : true;
      },
      // Every peek is a receive of each visible message: poll gently.
      { intervalMs: 2_000 },
    );
    expect(await stack.client.getJob(jobId)).toMatchObject({ attempts: 1, finishedAt: done.finishedAt });
  });

  it('does not run a delayed job before its time', async () => {
    const enqueuedAt = Date.now();
    const { jobId, status } = await stack.client.enqueue('flaky-task', {}, { delaySeconds: 15 });
    expect(status).toBe('enqueued');
    // Asserted on the run itself, not by looking at a fixed moment: its one claim came at least
    // the delay after the send (SQS keeps the message invisible until then; load only adds).
    const done = await waitForStatus(stack, jobId, ['SUCCEEDED']);
    expect(done.attempts).toBe(1);
    expect(Date.parse(done.startedAt ?? '') - enqueuedAt).toBeGreaterThanOrEqual(14_000);
  });

  it('puts a job due in over 15 minutes on a one-time schedule that runs it when due', async () => {
    const runAt = new Date(Date.now() + 20 * 60_000);
    const result = await stack.client.enqueue(
      'send-email',
      { to: 'later@example.com', subject: 'later' },
      { runAt },
    );
    expect(result.status).toBe('scheduled');
    const group = stack.config.scheduleGroup;
    const schedule = await stack.scheduler.send(
      new GetScheduleCommand({ GroupName: group, Name: result.scheduleName }),
    );
    expect(schedule.ScheduleExpression).toBe(`at(${runAt.toISOString().slice(0, 19)})`);
    expect(schedule.Target?.Arn).toBe(stack.config.lanes.high.queueArn);
    // Nothing fires before the time; at the time, the stand-in delivers it.
    expect((await standIn.fireDue(group, new Date())).map((f) => f.name)).not.toContain(result.scheduleName);
    const fired = await standIn.fireDue(group, runAt);
    expect(fired.map((f) => f.name)).toContain(result.scheduleName);
    const done = await waitForStatus(stack, result.jobId, ['SUCCEEDED']);
    expect(done.result).toMatchObject({ to: 'later@example.com' });
  });
});
