/**
 * LocalStack as this project runs it must keep SQS FIFO's group lock, or a FIFO lane (several
 * pollers per mapping, scripts/localstack/executor) runs a group out of order: no message of a
 * group is returned while another of the group is in flight (fifo_groups.py patches LocalStack,
 * which unlocked the group as soon as one message of it was visible again).
 */
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
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
  it('returns no message of a group while another of it is in flight, then the group in order', async () => {
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

    // Act: m0 comes back while m1 is still in flight, then m1 comes back too
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: m0.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    const whileM1InFlight = await receive();
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: m1.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    const afterBoth = await receive();

    // Assess: the group stays locked while any of its messages is in flight, then comes back in order
    expect(whileM1InFlight.map((m) => m.Body)).toEqual([]);
    expect(afterBoth.map((m) => m.Body)).toEqual(['m0', 'm1']);
  });
});
