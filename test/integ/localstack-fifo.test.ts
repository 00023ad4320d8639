/**
 * LocalStack as this project runs it must keep SQS FIFO's group lock, or a FIFO lane (several
 * pollers per mapping, scripts/localstack/executor) runs a group out of order: no message of a
 * group is returned while another of the group is in flight (fifo_groups.py patches LocalStack).
 */
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';

const sqs = new SQSClient({});
let queueUrl: string | undefined;

afterAll(async () => {
  if (queueUrl) await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
});

describe('LocalStack FIFO group lock', () => {
  it('returns no later message of a group while an earlier one is in flight, and returns it once that is deleted', async () => {
    // Prepare: m0, m1 in one group, both received
    const created = await sqs.send(
      new CreateQueueCommand({
        QueueName: `fifo-lock-${Date.now()}.fifo`,
        Attributes: { FifoQueue: 'true', VisibilityTimeout: '120' },
      }),
    );
    queueUrl = created.QueueUrl as string;
    for (const n of [0, 1]) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: `m${n}`,
          MessageGroupId: 'g',
          MessageDeduplicationId: `d${n}`,
        }),
      );
    }
    const receive = async () =>
      (await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }))).Messages ??
      [];
    const [m0, m1] = await receive();
    expect([m0?.Body, m1?.Body]).toEqual(['m0', 'm1']);

    // Act: m0 comes back and is received again; then m1 comes back while m0 is in flight
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: m0.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    const again = await receive();
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: m1.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    const whileM0InFlight = await receive();
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: again[0]?.ReceiptHandle }));
    const afterDelete = await receive();

    // Assess
    expect(again.map((m) => m.Body)).toEqual(['m0']);
    expect(whileM0InFlight.map((m) => m.Body)).toEqual([]);
    expect(afterDelete.map((m) => m.Body)).toEqual(['m1']);
  });
});
