/** What each command sends to AWS and prints, with the SDK clients mocked. */
import { DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { ConditionalCheckFailedException, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetScheduleCommand, ListSchedulesCommand } from '@aws-sdk/client-scheduler';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../../cli/errors';
import { body, CONFIG, mocks, resetMocks, run } from './support/harness';

beforeEach(resetMocks);

const dlqMessage = (id: string, extra: Record<string, unknown> = {}) => ({
  MessageId: `m-${id}`,
  ReceiptHandle: `r-${id}`,
  Body: body(id),
  ...extra,
});

describe('enqueue', () => {
  it('validates against the registry and sends the envelope to the job lane', async () => {
    // Prepare
    mocks.sqs.on(SendMessageCommand).resolves({ MessageId: 'sent-1' });

    // Act
    const result = await run([
      'enqueue',
      'send-email',
      '--payload',
      '{"to":"a@example.com","subject":"hi"}',
      '--json',
    ]);

    // Assess
    expect(result.code).toBe(EXIT.ok);
    const out = JSON.parse(result.stdout);
    expect(out).toMatchObject({ type: 'send-email', lane: 'high', status: 'enqueued', messageId: 'sent-1' });
    const input = mocks.sqs.commandCalls(SendMessageCommand)[0].args[0].input;
    expect(input.QueueUrl).toBe(CONFIG.lanes.high.queueUrl);
    expect(JSON.parse(input.MessageBody ?? '')).toMatchObject({ id: out.jobId, type: 'send-email' });
  });

  it('re-runs a finished keyed job only with --rerun, and refuses the key under another payload (exit 4)', async () => {
    // Prepare: the key names a SUCCEEDED job enqueued with another payload
    mocks.sqs.on(SendMessageCommand).resolves({ MessageId: 'sent-3' });
    mocks.ddb.on(PutItemCommand).rejects(
      new ConditionalCheckFailedException({
        message: 'conditional',
        $metadata: {},
        Item: {
          jobId: { S: 'k' },
          status: { S: 'SUCCEEDED' },
          attempts: { N: '1' },
          payloadHash: { S: 'other' },
        },
      }),
    );

    // Act
    const conflict = await run(['enqueue', 'flaky-task', '--key', 'order-42', '--rerun', '--json']);

    // Assess: the conditional write asked for a rerun; the payload differs, so nothing was sent
    expect(conflict.code).toBe(EXIT.validation);
    expect(conflict.stderr).toMatch(/another payload/);
    const put = mocks.ddb.commandCalls(PutItemCommand)[0].args[0].input;
    expect(put.ConditionExpression).toContain('#status IN (:succeeded, :dead, :cancelled)');
    expect(mocks.sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  it('passes lane and delay through to the client', async () => {
    // Prepare
    mocks.sqs.on(SendMessageCommand).resolves({ MessageId: 'sent-2' });

    // Act
    const result = await run(['enqueue', 'flaky-task', '--lane', 'default', '--delay', '30']);

    // Assess
    expect(result.code).toBe(EXIT.ok);
    expect(result.stdout).toMatch(/^status\s+enqueued$/m);
    expect(mocks.sqs.commandCalls(SendMessageCommand)[0].args[0].input).toMatchObject({
      QueueUrl: CONFIG.lanes.default.queueUrl,
      DelaySeconds: 30,
    });
  });

  it.each([
    [['send-email', '--payload', '{"to":'], /not valid JSON/],
    [
      ['send-email', '--payload', '{"to":"nope","subject":"x"}'],
      /Invalid payload for job 'send-email' at 'to'/,
    ],
    [['no-such-type'], /Unknown job type 'no-such-type'/],
  ])('exits 4 before any AWS call for %j', async (args, message) => {
    // Act
    const result = await run(['enqueue', ...args]);

    // Assess
    expect(result.code).toBe(EXIT.validation);
    expect(result.stderr).toMatch(message);
    expect(mocks.cfn.calls()).toHaveLength(0);
    expect(mocks.sqs.calls()).toHaveLength(0);
  });

  it('exits 3 for an unknown --lane', async () => {
    // Act
    const result = await run(['enqueue', 'flaky-task', '--lane', 'urgent']);

    // Assess
    expect(result.code).toBe(EXIT.notFound);
    expect(result.stderr).toMatch(/Unknown lane 'urgent'/);
  });

  it('exits 2 for a missing payload file, a bad delay or a missing registry', async () => {
    expect((await run(['enqueue', 'flaky-task', '--payload', '@/nonexistent.json'])).code).toBe(EXIT.usage);
    expect((await run(['enqueue', 'flaky-task', '--delay', '1.5'])).code).toBe(EXIT.usage);
    const noRegistry = await run(['enqueue', 'flaky-task', '--registry', 'nope/jobs.ts']);
    expect(noRegistry.code).toBe(EXIT.usage);
    expect(noRegistry.stderr).toMatch(/Registry module not found/);
  });

  it('validates without sending on --dry-run', async () => {
    // Act
    const result = await run(['enqueue', 'generate-report', '-p', '{"reportId":"r1"}', '--dry-run']);

    // Assess
    expect(result.code).toBe(EXIT.ok);
    expect(result.stdout).toBe('valid generate-report payload: {"reportId":"r1","pages":3}\n');
    expect(mocks.cfn.calls()).toHaveLength(0);
  });
});

describe('status', () => {
  it('prints the decoded ledger record as JSON', async () => {
    // Prepare
    mocks.ddb.on(GetItemCommand).resolves({
      Item: {
        jobId: { S: 'j1' },
        status: { S: 'DEAD' },
        attempts: { N: '4' },
        lastError: { S: 'Error: down' },
        result: { S: '{"a":1}' },
      },
    });

    // Act
    const result = await run(['status', 'j1', '--json']);

    // Assess
    expect(result.code).toBe(EXIT.ok);
    expect(JSON.parse(result.stdout)).toMatchObject({
      jobId: 'j1',
      status: 'DEAD',
      attempts: 4,
      lastError: 'Error: down',
      result: { a: 1 },
    });
    expect(mocks.ddb.commandCalls(GetItemCommand)[0].args[0].input).toMatchObject({
      TableName: 'ledger',
      ConsistentRead: true,
    });
  });
});

describe('dlq list', () => {
  it('shows failure details from message attributes, else the ledger, and releases every message', async () => {
    // Prepare
    mocks.sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '2' } });
    mocks.sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({
        Messages: [
          dlqMessage('j1', {
            MessageAttributes: {
              'jobs.error': { DataType: 'String', StringValue: 'payload asked for a permanent failure' },
              'jobs.errorType': { DataType: 'String', StringValue: 'PermanentJobError' },
              'jobs.failedAt': { DataType: 'String', StringValue: '2026-03-01T11:05:00.000Z' },
              'jobs.firstFailedAt': { DataType: 'String', StringValue: '2026-03-01T11:01:00.000Z' },
              'jobs.attempts': { DataType: 'Number', StringValue: '1' },
            },
          }),
          dlqMessage('j2'),
        ],
      })
      .resolves({ Messages: [] });
    mocks.ddb.on(GetItemCommand, { Key: { jobId: { S: 'j1' } } }).resolves({});
    mocks.ddb.on(GetItemCommand, { Key: { jobId: { S: 'j2' } } }).resolves({
      Item: {
        jobId: { S: 'j2' },
        status: { S: 'DEAD' },
        attempts: { N: '4' },
        lastError: { S: 'Error: the downstream service is down' },
        finishedAt: { S: '2026-03-01T11:30:00.000Z' },
      },
    });
    mocks.sqs.on(ChangeMessageVisibilityBatchCommand).resolves({});

    // Act
    const result = await run(['dlq', 'list', 'default', '--json']);

    // Assess
    expect(result.code).toBe(EXIT.ok);
    const out = JSON.parse(result.stdout);
    expect(out).toMatchObject({ lane: 'default', approximateDepth: 2, shown: 2 });
    expect(out.jobs[0]).toMatchObject({
      jobId: 'j1',
      type: 'flaky-task',
      attempts: 1,
      error: 'PermanentJobError: payload asked for a permanent failure',
      firstFailedAt: '2026-03-01T11:01:00.000Z',
      lastFailedAt: '2026-03-01T11:05:00.000Z',
    });
    expect(out.jobs[1]).toMatchObject({
      jobId: 'j2',
      attempts: 4,
      error: 'Error: the downstream service is down',
      lastFailedAt: '2026-03-01T11:30:00.000Z',
      ledgerStatus: 'DEAD',
    });
    const receive = mocks.sqs.commandCalls(ReceiveMessageCommand)[0].args[0].input;
    expect(receive).toMatchObject({ QueueUrl: CONFIG.lanes.default.dlqUrl, VisibilityTimeout: 30 });
    const released = mocks.sqs.commandCalls(ChangeMessageVisibilityBatchCommand)[0].args[0].input;
    expect(released.Entries?.map((e) => [e.ReceiptHandle, e.VisibilityTimeout])).toEqual([
      ['r-j1', 0],
      ['r-j2', 0],
    ]);
    expect(mocks.sqs.commandCalls(DeleteMessageCommand)).toHaveLength(0);
  });

  it('stops at --limit and prints a table', async () => {
    // Prepare
    mocks.sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '30' } });
    mocks.sqs.on(ReceiveMessageCommand).resolves({ Messages: [dlqMessage('a'), dlqMessage('b')] });
    mocks.ddb.on(GetItemCommand).resolves({});

    // Act
    const result = await run(['dlq', 'list', 'default', '--limit', '2']);

    // Assess
    expect(result.code).toBe(EXIT.ok);
    expect(mocks.sqs.commandCalls(ReceiveMessageCommand)[0].args[0].input.MaxNumberOfMessages).toBe(2);
    expect(result.stdout.split('\n')[0]).toMatch(
      /^JOB ID\s+TYPE\s+ATTEMPTS\s+ERROR\s+FIRST FAILURE\s+LAST FAILURE$/,
    );
    expect(result.stdout).toMatch(/^a\s+flaky-task/m);
    expect(result.stdout).toMatch(/\n2 shown; about 30 in the default DLQ\n$/);
    expect(result.stderr).toBe('');
  });
});

describe('dlq retry / delete', () => {
  function dlqHolds(...messages: ReturnType<typeof dlqMessage>[]) {
    mocks.sqs.on(ReceiveMessageCommand).resolvesOnce({ Messages: messages }).resolves({ Messages: [] });
  }

  it('sends the job to its lane first, then deletes it from the DLQ, releasing the others', async () => {
    // Prepare
    dlqHolds(
      dlqMessage('other'),
      dlqMessage('j1', {
        MessageAttributes: {
          'jobs.failedAt': { DataType: 'String', StringValue: '2026-03-01T11:00:00.000Z' },
        },
      }),
    );
    mocks.sqs.on(SendMessageCommand).resolves({ MessageId: 'new-1' });
    mocks.ddb
      .on(GetItemCommand)
      .resolves({ Item: { jobId: { S: 'j1' }, status: { S: 'DEAD' }, attempts: { N: '4' } } });

    // Act
    const result = await run(['dlq', 'retry', 'default', 'j1', '--json']);

    // Assess
    expect(result.code).toBe(EXIT.ok);
    expect(JSON.parse(result.stdout)).toMatchObject({
      action: 'retried',
      jobId: 'j1',
      messageId: 'new-1',
      ledgerStatus: 'DEAD',
    });
    const calls = mocks.sqs.calls().map((c) => c.args[0].constructor.name);
    expect(calls.indexOf('SendMessageCommand')).toBeLessThan(calls.indexOf('DeleteMessageCommand'));
    const send = mocks.sqs.commandCalls(SendMessageCommand)[0].args[0].input;
    expect(send).toMatchObject({ QueueUrl: CONFIG.lanes.default.queueUrl, MessageBody: body('j1') });
    expect(send.MessageAttributes?.['jobs.firstFailedAt']?.StringValue).toBe('2026-03-01T11:00:00.000Z');
    expect(mocks.sqs.commandCalls(DeleteMessageCommand)[0].args[0].input).toEqual({
      QueueUrl: CONFIG.lanes.default.dlqUrl,
      ReceiptHandle: 'r-j1',
    });
    const released = mocks.sqs
      .commandCalls(ChangeMessageVisibilityBatchCommand)
      .flatMap((c) => c.args[0].input.Entries ?? []);
    expect(released.map((e) => e.ReceiptHandle)).toEqual(['r-other']);
  });

  it('keeps the message in the DLQ (released) when the send fails', async () => {
    // Prepare
    dlqHolds(dlqMessage('j1'));
    mocks.sqs
      .on(SendMessageCommand)
      .rejects(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));

    // Act
    const result = await run(['dlq', 'retry', 'default', 'j1']);

    // Assess
    expect(result.code).toBe(EXIT.aws);
    expect(mocks.sqs.commandCalls(DeleteMessageCommand)).toHaveLength(0);
    const released = mocks.sqs
      .commandCalls(ChangeMessageVisibilityBatchCommand)
      .flatMap((c) => c.args[0].input.Entries ?? []);
    expect(released.map((e) => e.ReceiptHandle)).toEqual(['r-j1']);
  });

  it('gives FIFO retries the group and a new deduplication id', async () => {
    // Prepare
    dlqHolds(dlqMessage('j1', { Attributes: { MessageGroupId: 'acct-7' } }));
    mocks.sqs.on(SendMessageCommand).resolves({ MessageId: 'new' });
    mocks.ddb.on(GetItemCommand).resolves({});

    // Act
    const result = await run(['dlq', 'retry', 'ordered', 'j1']);

    // Assess
    expect(result.code).toBe(EXIT.ok);
    expect(mocks.sqs.commandCalls(SendMessageCommand)[0].args[0].input).toMatchObject({
      QueueUrl: CONFIG.lanes.ordered.queueUrl,
      MessageGroupId: 'acct-7',
      MessageDeduplicationId: 'retry-m-j1',
    });
  });

  it('finds a message by its SQS message id too, and deletes it', async () => {
    // Prepare
    dlqHolds({ MessageId: 'm-bad', ReceiptHandle: 'r-bad', Body: 'not json' });

    // Act
    const result = await run(['dlq', 'delete', 'default', 'm-bad']);

    // Assess
    expect(result.code).toBe(EXIT.ok);
    expect(result.stdout).toMatch(/^action\s+deleted$/m);
    expect(mocks.sqs.commandCalls(DeleteMessageCommand)[0].args[0].input.ReceiptHandle).toBe('r-bad');
    expect(mocks.sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
  });
});

describe('dlq purge', () => {
  it('refuses without --yes (exit 2) and calls nothing', async () => {
    // Act
    const result = await run(['dlq', 'purge', 'default']);

    // Assess
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/Refusing to purge the default DLQ without --yes/);
    expect(mocks.sqs.calls()).toHaveLength(0);
  });

  it('purges the DLQ (not the lane) with --yes', async () => {
    // Prepare
    mocks.sqs.on(GetQueueAttributesCommand).resolves({
      Attributes: { ApproximateNumberOfMessages: '5', ApproximateNumberOfMessagesNotVisible: '1' },
    });

    // Act
    const result = await run(['dlq', 'purge', 'high', '-y']);

    // Assess
    expect(result.code).toBe(EXIT.ok);
    expect(result.stdout).toBe('Purged the high DLQ (about 6 messages).\n');
    expect(mocks.sqs.commandCalls(PurgeQueueCommand)[0].args[0].input).toEqual({
      QueueUrl: CONFIG.lanes.high.dlqUrl,
    });
  });
});

describe('dlq redrive', () => {
  it('moves DLQ → lane at the given rate and follows the task to the end', async () => {
    // Prepare
    mocks.sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '4' } });
    mocks.sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'h1' });
    const task = (status: string, moved: number) => ({
      Results: [
        {
          TaskHandle: 'h1',
          Status: status,
          ApproximateNumberOfMessagesMoved: moved,
          ApproximateNumberOfMessagesToMove: 4,
        },
      ],
    });
    mocks.sqs
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({ Results: [] })
      .resolvesOnce(task('RUNNING', 1))
      .resolvesOnce(task('RUNNING', 3))
      .resolves(task('COMPLETED', 4));

    // Act
    const result = await run(['dlq', 'redrive', 'default', '--rate', '10']);

    // Assess
    expect(result.code).toBe(EXIT.ok);
    expect(mocks.sqs.commandCalls(StartMessageMoveTaskCommand)[0].args[0].input).toEqual({
      SourceArn: CONFIG.lanes.default.dlqArn,
      DestinationArn: CONFIG.lanes.default.queueArn,
      MaxNumberOfMessagesPerSecond: 10,
    });
    expect(result.stderr).toMatch(/\[#+-+\] 1\/4 \(25%\)/);
    expect(result.stderr).toMatch(/4\/4 \(100%\)/);
    expect(result.stdout).toBe('Moved 4 of 4 messages from the default DLQ back to the lane.\n');
  });

  it('does nothing for an empty DLQ', async () => {
    // Prepare
    mocks.sqs.on(ListMessageMoveTasksCommand).resolves({ Results: [] });
    mocks.sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '0' } });

    // Act
    const result = await run(['dlq', 'redrive', 'default', '--json']);

    // Assess
    expect(result.code).toBe(EXIT.ok);
    expect(JSON.parse(result.stdout)).toEqual({ lane: 'default', status: 'EMPTY', moved: 0 });
    expect(mocks.sqs.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
  });

  it('exits 1 when the task fails, and 2 for a bad --rate', async () => {
    // Prepare
    mocks.sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '4' } });
    mocks.sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'h1' });
    mocks.sqs
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({ Results: [] })
      .resolves({ Results: [{ TaskHandle: 'h1', Status: 'FAILED', FailureReason: 'AccessDenied' }] });

    // Act
    const failed = await run(['dlq', 'redrive', 'default']);
    const badRate = await run(['dlq', 'redrive', 'default', '--rate', '501']);

    // Assess
    expect(failed.code).toBe(EXIT.failure);
    expect(failed.stdout).toMatch(/FAILED.*AccessDenied/);
    expect(badRate.code).toBe(EXIT.usage);
  });
});

describe('stats and top', () => {
  function queues() {
    mocks.sqs.on(GetQueueAttributesCommand).callsFake((input: { QueueUrl: string }) => ({
      Attributes: input.QueueUrl.includes('-dlq')
        ? { ApproximateNumberOfMessages: '2', ApproximateNumberOfMessagesNotVisible: '1' }
        : {
            ApproximateNumberOfMessages: '5',
            ApproximateNumberOfMessagesNotVisible: '3',
            ApproximateNumberOfMessagesDelayed: '1',
          },
    }));
  }

  it('reports depths per lane, the latest oldest-age datapoint from CloudWatch and only this queue’s alarms', async () => {
    // Prepare
    queues();
    mocks.cloudwatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        {
          Id: 'age1',
          Timestamps: [new Date('2026-03-01T11:58:00Z'), new Date('2026-03-01T11:59:00Z')],
          Values: [40, 42],
        },
      ],
    });
    mocks.cloudwatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        { AlarmName: 'SqsJobsExample-dlq-default', StateValue: 'OK', AlarmActions: [CONFIG.alarmTopicArn] },
        {
          AlarmName: 'x-high-age',
          StateValue: 'ALARM',
          OKActions: [CONFIG.alarmTopicArn],
          StateReason: 'age',
        },
        { AlarmName: 'someone-else', StateValue: 'ALARM', AlarmActions: ['arn:aws:sns:us-east-1:1:other'] },
      ],
    });

    // Act
    const result = await run(['stats', '--json']);

    // Assess
    expect(result.code).toBe(EXIT.ok);
    const stats = JSON.parse(result.stdout);
    expect(stats.lanes).toEqual([
      { lane: 'high', fifo: false, visible: 5, inFlight: 3, delayed: 1, dlq: 3, oldestAgeSeconds: null },
      { lane: 'default', fifo: false, visible: 5, inFlight: 3, delayed: 1, dlq: 3, oldestAgeSeconds: 42 },
      { lane: 'ordered', fifo: true, visible: 5, inFlight: 3, delayed: 1, dlq: 3, oldestAgeSeconds: null },
    ]);
    expect(stats.alarms.map((a: { name: string }) => a.name)).toEqual([
      'x-high-age',
      'SqsJobsExample-dlq-default',
    ]);
    const query = mocks.cloudwatch.commandCalls(GetMetricDataCommand)[0].args[0].input.MetricDataQueries?.[1];
    expect(query?.MetricStat?.Metric?.Dimensions).toEqual([{ Name: 'QueueName', Value: 'jobs-default' }]);
  });

  it('still shows depths when CloudWatch fails, with a warning', async () => {
    // Prepare
    queues();
    mocks.cloudwatch.rejects(new Error('cloudwatch down'));

    // Act
    const result = await run(['stats']);

    // Assess
    expect(result.code).toBe(EXIT.ok);
    expect(result.stdout).toMatch(/^default\s+5\s+3\s+1\s+-\s+3$/m);
    expect(result.stdout).toMatch(/warning: alarm states unavailable: cloudwatch down/);
  });

  it('top refreshes until its iterations are done, one JSON line each with --json', async () => {
    // Prepare
    queues();
    mocks.cloudwatch.on(GetMetricDataCommand).resolves({});
    mocks.cloudwatch.on(DescribeAlarmsCommand).resolves({});

    // Act
    const result = await run(['top', '--iterations', '3', '--interval', '1', '--json']);

    // Assess
    expect(result.code).toBe(EXIT.ok);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[2]).lanes).toHaveLength(3);
  });

  it('top stops when interrupted', async () => {
    // Prepare
    queues();
    mocks.cloudwatch.on(GetMetricDataCommand).resolves({});
    mocks.cloudwatch.on(DescribeAlarmsCommand).resolves({});
    const controller = new AbortController();
    let refreshes = 0;
    const { main } = await import('../../../cli/main');

    // Act
    const code = await main(['top', '--interval', '0.1'], {
      stdout: () => {
        refreshes++;
        if (refreshes === 2) controller.abort();
      },
      stderr: () => undefined,
      signal: controller.signal,
    });

    // Assess
    expect(code).toBe(EXIT.ok);
    expect(refreshes).toBe(2);
  });
});

describe('schedules', () => {
  it('lists the group’s schedules with lane, job type and next firing, soonest first', async () => {
    // Prepare
    mocks.scheduler.on(ListSchedulesCommand).resolves({
      Schedules: [{ Name: 'nightly' }, { Name: 'job-abc' }, { Name: 'paused' }],
    });
    mocks.scheduler.on(GetScheduleCommand, { Name: 'nightly' }).resolves({
      Name: 'nightly',
      State: 'ENABLED',
      ScheduleExpression: 'cron(0 3 * * ? *)',
      Target: {
        Arn: CONFIG.lanes.default.queueArn,
        RoleArn: 'r',
        Input: JSON.stringify({ type: 'nightly-cleanup', id: 'cron:x:<aws.scheduler.scheduled-time>' }),
      },
    });
    mocks.scheduler.on(GetScheduleCommand, { Name: 'job-abc' }).resolves({
      Name: 'job-abc',
      State: 'ENABLED',
      ScheduleExpression: 'at(2026-03-01T12:30:00)',
      ScheduleExpressionTimezone: 'UTC',
      Target: { Arn: CONFIG.lanes.high.queueArn, RoleArn: 'r', Input: body('abc', 'send-email') },
    });
    mocks.scheduler.on(GetScheduleCommand, { Name: 'paused' }).resolves({
      Name: 'paused',
      State: 'DISABLED',
      ScheduleExpression: 'rate(1 hour)',
    });

    // Act
    const json = await run(['schedules', '--json']);
    const text = await run(['schedules']);

    // Assess
    expect(json.code).toBe(EXIT.ok);
    expect(mocks.scheduler.commandCalls(ListSchedulesCommand)[0].args[0].input.GroupName).toBe(
      CONFIG.scheduleGroup,
    );
    expect(JSON.parse(json.stdout).schedules).toEqual([
      expect.objectContaining({
        name: 'job-abc',
        lane: 'high',
        jobType: 'send-email',
        nextFiring: '2026-03-01T12:30:00.000Z',
      }),
      expect.objectContaining({
        name: 'nightly',
        lane: 'default',
        jobType: 'nightly-cleanup',
        nextFiring: '2026-03-02T03:00:00.000Z',
      }),
      expect.objectContaining({ name: 'paused', nextFiring: null, note: 'disabled' }),
    ]);
    expect(text.stdout).toMatch(
      /^nightly\s+ENABLED\s+cron\(0 3 \* \* \? \*\)\s+UTC\s+default\s+nightly-cleanup\s+2026-03-02T03:00:00.000Z\s+15h 0m$/m,
    );
  });
});
