/**
 * Failure recovery on the deployed stack: a consumer killed mid-job, DLQ redrive after the cause
 * is fixed, and the DLQ-depth alarm.
 */
import { DescribeAlarmsCommand, type MetricAlarm } from '@aws-sdk/client-cloudwatch';
import {
  ListMessageMoveTasksCommand,
  PurgeQueueCommand,
  SendMessageCommand,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type DeployedStack, deployedStack } from '../../scripts/local/deployed-stack';
import { consumerPids, envelopeId, peekMessages, waitFor, waitForStatus } from './helpers';

let stack: DeployedStack;
beforeAll(async () => {
  stack = await deployedStack();
});

/** The alarm on "any message in this DLQ". */
async function dlqDepthAlarm(dlqUrl: string): Promise<MetricAlarm> {
  const dlqName = dlqUrl.split('/').pop();
  const { MetricAlarms = [] } = await stack.cloudwatch.send(new DescribeAlarmsCommand({ MaxRecords: 100 }));
  const alarm = MetricAlarms.find(
    (a) =>
      a.MetricName === 'ApproximateNumberOfMessagesVisible' &&
      a.Threshold === 0 &&
      a.Dimensions?.some((d) => d.Name === 'QueueName' && d.Value === dlqName),
  );
  if (!alarm) throw new Error(`no DLQ-depth alarm for ${dlqName} among ${MetricAlarms.length} alarms`);
  return alarm;
}

describe.concurrent('recovery', () => {
  it('finishes a job exactly once after its consumer process is killed mid-job', async () => {
    const lane = stack.config.lanes.default;
    // Kill the lane's consumer processes while the job runs (5 s fits the handler deadline: 10 s
    // Lambda timeout less the consumer's safety margin). On a busy machine the kill can miss: the
    // ledger read that saw RUNNING came late, and the job finished (attempts 1). Then try a new job.
    for (let round = 1; round <= 3; round++) {
      const { jobId } = await stack.client.enqueue('flaky-task', { sleepMs: 5_000 });
      const seen = await waitForStatus(stack, jobId, ['RUNNING', 'SUCCEEDED']);
      if (seen.status !== 'RUNNING') continue;
      expect(seen.attempts).toBe(1);
      const pids = consumerPids(lane.functionName);
      expect(pids.length).toBeGreaterThan(0);
      for (const pid of pids) process.kill(pid, 'SIGKILL');
      const killedAt = Date.now();
      // The message reappears after the visibility timeout (60 s), the dead lease is taken over.
      const done = await waitForStatus(stack, jobId, ['SUCCEEDED'], 300_000);
      if (done.attempts === 1) continue;
      // A lower bound, which load cannot break: the message stays invisible for the visibility
      // timeout from its receive, at most one function timeout (10 s) before the kill.
      expect(Date.now() - killedAt).toBeGreaterThan(30_000);
      expect(done).toMatchObject({ attempts: 2, result: { attempt: 2 } });
      return;
    }
    throw new Error('three jobs finished before the kill reached them');
  });

  it('redrives a DLQ back to its lane once the cause is fixed, and the job succeeds', async () => {
    const lane = stack.config.lanes.low;
    // The cause is "fixed" after the lane's last attempt: the job fails every attempt it gets
    // (4), dies, and succeeds on the first run after the redrive. Counted in attempts, not time,
    // so a slow machine cannot let an attempt run after the fix and never die.
    const { jobId } = await stack.client.enqueue(
      'flaky-task',
      { failTimes: lane.maxAttempts },
      { lane: 'low' },
    );
    await waitForStatus(stack, jobId, ['DEAD'], 300_000);
    await waitFor('the job in the low DLQ', async () =>
      (await peekMessages(stack.sqs, lane.dlqUrl, 200)).find((m) => envelopeId(m) === jobId),
    );
    await waitFor(
      'a redrive task to start',
      async () => {
        try {
          // An explicit destination: messages the consumer dead-lettered itself have no source queue
          // recorded, and a move task without a destination fails on them.
          return await stack.sqs.send(
            new StartMessageMoveTaskCommand({ SourceArn: lane.dlqArn, DestinationArn: lane.queueArn }),
          );
        } catch (error) {
          // One task per DLQ at a time: another test's task may still be running.
          if ((error as Error).name.includes('Unsupported') || /running/i.test(String(error)))
            return undefined;
          throw error;
        }
      },
      { intervalMs: 2_000 },
    );
    const done = await waitForStatus(stack, jobId, ['SUCCEEDED'], 300_000);
    expect(done.attempts).toBeGreaterThan(stack.config.lanes.low.maxAttempts);
    const tasks = await stack.sqs.send(new ListMessageMoveTasksCommand({ SourceArn: lane.dlqArn }));
    expect(tasks.Results?.[0]?.Status).toMatch(/RUNNING|COMPLETED/);
  });

  it('raises the DLQ-depth alarm when a job is dead-lettered', async () => {
    const lane = stack.config.lanes.high;
    const before = await dlqDepthAlarm(lane.dlqUrl);
    expect(before.AlarmActions?.[0]).toBe(stack.config.alarmTopicArn);
    // Start from an empty DLQ and a quiet alarm, so the ALARM below is caused by this test.
    await stack.sqs.send(new PurgeQueueCommand({ QueueUrl: lane.dlqUrl }));
    await waitFor(
      'the high DLQ-depth alarm to be quiet',
      async () => ((await dlqDepthAlarm(lane.dlqUrl)).StateValue === 'ALARM' ? undefined : true),
      { timeoutMs: 300_000, intervalMs: 5_000 },
    );
    const sentAt = Date.now();
    await stack.sqs.send(
      new SendMessageCommand({ QueueUrl: lane.queueUrl, MessageBody: '{"v":1,"truncated' }),
    );
    const alarm = await waitFor(
      'the high DLQ-depth alarm to reach ALARM',
      async () => {
        const current = await dlqDepthAlarm(lane.dlqUrl);
        return current.StateValue === 'ALARM' ? current : undefined;
      },
      { timeoutMs: 300_000, intervalMs: 5_000 },
    );
    expect(alarm.StateUpdatedTimestamp?.getTime()).toBeGreaterThan(sentAt - 1_000);
    console.log(
      `[integ] DLQ-depth alarm in ALARM ${Math.round((Date.now() - sentAt) / 1000)} s after the poison message`,
    );
  });
});
