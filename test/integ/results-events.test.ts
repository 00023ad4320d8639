/**
 * Large results and lifecycle events end to end on LocalStack: a result over the ledger's inline
 * limit is stored in the results bucket and read back whole by getJob and waitFor, while the
 * ledger item keeps only its key; a job that goes DEAD emits a `Job Dead-Lettered` event, which
 * the example stack's rule routes into its DeadJobEvents queue.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { LEDGER_ATTR, LIFECYCLE_EVENTS, RESULT_OBJECTS } from '../../lambdas/shared/contract';
import { describeStack } from '../../scripts/local/deploy';
import { type DeployedStack, deployedStack } from '../../scripts/local/deployed-stack';
import { waitFor } from './helpers';

let stack: DeployedStack;
beforeAll(async () => {
  stack = await deployedStack();
});

/** Generous on purpose: a cold consumer on a busy machine is slow, not broken. */
const WAIT = { timeoutMs: 240_000, maxIntervalMs: 2000 };

describe('results over the ledger limit', () => {
  it('a 2 KB result: getJob and waitFor return it whole, the ledger item holds only its key and stays under 1 KB', async () => {
    // 70 rows of {"id":n,"name":"row-00000n"}: about 2 KB of JSON, over the 400-byte inline limit.
    const expected = {
      rows: Array.from({ length: 70 }, (_, i) => ({ id: i, name: `row-${String(i).padStart(6, '0')}` })),
    };
    expect(Buffer.byteLength(JSON.stringify(expected))).toBeGreaterThan(2000);
    const { jobId } = await stack.client.enqueue('export-rows', { rows: 70 });

    const done = await stack.client.waitFor(jobId, WAIT);

    expect(done.status).toBe('SUCCEEDED');
    expect(done.result).toEqual(expected);
    expect(done.resultRef).toMatch(new RegExp(`^${RESULT_OBJECTS.prefix}${jobId}/[0-9a-f-]+\\.json$`));
    expect((await stack.client.getJob(jobId))?.result).toEqual(expected);

    const { Item: item } = await stack.dynamodb.send(
      new GetItemCommand({
        TableName: stack.config.tableName,
        Key: { jobId: { S: jobId } },
        ConsistentRead: true,
      }),
    );
    expect(item?.[LEDGER_ATTR.result]).toBeUndefined();
    expect(item?.[LEDGER_ATTR.resultRef]?.S).toBe(done.resultRef);
    // An upper bound of DynamoDB's item size: the JSON of the typed item is longer than the item.
    expect(Buffer.byteLength(JSON.stringify(item))).toBeLessThan(1024);
  });
});

describe('lifecycle events', () => {
  it('a job that goes DEAD emits a Job Dead-Lettered event, observed on the DeadJobEvents queue', async () => {
    const outputs = (await describeStack(stack.endpoint, stack.stackName)).Outputs ?? [];
    const queueUrl = outputs.find((o) => o.OutputKey?.startsWith('DeadJobEventsQueueUrl'))?.OutputValue;
    expect(queueUrl, 'the example stack publishes the DeadJobEventsQueueUrl output').toBeDefined();
    const { jobId } = await stack.client.enqueue('flaky-task', { permanent: true });

    const dead = await stack.client.waitFor(jobId, WAIT);
    expect(dead.status).toBe('DEAD');

    const event = await waitFor(
      `the Job Dead-Lettered event of ${jobId}`,
      () => takeEventOf(String(queueUrl), jobId),
      { timeoutMs: 240_000, intervalMs: 500 },
    );
    expect(event).toMatchObject({
      source: LIFECYCLE_EVENTS.source,
      'detail-type': LIFECYCLE_EVENTS.detailTypes.DEAD,
      detail: {
        jobId,
        type: 'flaky-task',
        lane: 'default',
        status: 'DEAD',
        error: { type: 'PermanentJobError', message: 'payload asked for a permanent failure' },
      },
    });
    expect(Number.isNaN(Date.parse(event.detail.at))).toBe(false);
  });
});

interface DeadJobEvent {
  readonly source: string;
  readonly 'detail-type': string;
  readonly detail: { readonly jobId: string; readonly at: string } & Record<string, unknown>;
}

/**
 * One receive from the DeadJobEvents queue: returns the event of `jobId` if it came. Every message
 * received is deleted (this test is the queue's only reader; events of earlier runs on a
 * long-lived LocalStack must not hide newer ones behind them).
 */
async function takeEventOf(queueUrl: string, jobId: string): Promise<DeadJobEvent | undefined> {
  const out = await stack.sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }),
  );
  const messages: Message[] = out.Messages ?? [];
  if (messages.length > 0) {
    await stack.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
  for (const message of messages) {
    try {
      const event = JSON.parse(message.Body ?? '') as DeadJobEvent;
      if (event.detail?.jobId === jobId) return event;
    } catch {
      // not an event: ignore
    }
  }
  return undefined;
}
