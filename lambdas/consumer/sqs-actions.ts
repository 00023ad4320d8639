/** The consumer's own SQS calls: visibility changes (backoff, heartbeat) and direct dead-lettering. */
import type { Logger } from '@aws-lambda-powertools/logger';
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  type MessageAttributeValue,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { MAX_BACKOFF_SECONDS } from '../shared/backoff';
import { DLQ_ATTR } from '../shared/contract';
import { describeError } from '../shared/errors';
import { truncate } from '../shared/text';

/** Longest error text put in a DLQ message attribute. */
const DLQ_ERROR_CHARS = 1000;

export interface SqsActionsOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly dlqUrl: string;
  readonly fifo: boolean;
  readonly logger: Logger;
}

export class SqsActions {
  constructor(private readonly o: SqsActionsOptions) {}

  /** Best effort: a failed visibility change only means the message reappears at the queue's timeout. */
  async setVisibility(record: SQSRecord, seconds: number): Promise<boolean> {
    try {
      await this.o.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.o.queueUrl,
          ReceiptHandle: record.receiptHandle,
          VisibilityTimeout: clampVisibility(seconds),
        }),
      );
      return true;
    } catch (error) {
      this.o.logger.warn('ChangeMessageVisibility failed', {
        messageId: record.messageId,
        error: describeError(error),
      });
      return false;
    }
  }

  /** Best effort, for FIFO messages held back behind a failed one. */
  async setVisibilityBatch(records: readonly SQSRecord[], seconds: number): Promise<void> {
    for (let i = 0; i < records.length; i += 10) {
      const chunk = records.slice(i, i + 10);
      try {
        await this.o.sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: this.o.queueUrl,
            Entries: chunk.map((r, j) => ({
              Id: String(j),
              ReceiptHandle: r.receiptHandle,
              VisibilityTimeout: clampVisibility(seconds),
            })),
          }),
        );
      } catch (error) {
        this.o.logger.warn('ChangeMessageVisibilityBatch failed', { error: describeError(error) });
      }
    }
  }

  /**
   * Send a job to any lane of the queue (a group's callback, a chain's next step). Throws when the
   * send fails. FIFO lanes need the group and deduplication ids.
   */
  async sendTo(input: {
    readonly queueUrl: string;
    readonly body: string;
    readonly messageGroupId?: string;
    readonly deduplicationId?: string;
  }): Promise<void> {
    await this.o.sqs.send(
      new SendMessageCommand({
        QueueUrl: input.queueUrl,
        MessageBody: input.body,
        ...(input.messageGroupId === undefined ? {} : { MessageGroupId: input.messageGroupId }),
        ...(input.deduplicationId === undefined ? {} : { MessageDeduplicationId: input.deduplicationId }),
      }),
    );
  }

  /**
   * Send a completion record (a finished run whose ledger write failed) to the lane itself, in the
   * record's FIFO group. Throws when the send fails: the caller must then keep the message.
   */
  async sendCompletion(record: SQSRecord, body: string): Promise<void> {
    await this.o.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.o.queueUrl,
        MessageBody: body,
        ...(this.o.fifo
          ? {
              MessageGroupId: record.attributes.MessageGroupId ?? 'default',
              MessageDeduplicationId: `${record.messageId}-completion`.slice(0, 128),
            }
          : {}),
      }),
    );
  }

  /**
   * Standard lanes: send the body again as a new message delayed `seconds` (at most 900), in the
   * same message group (the tenant), so a job deferred many times by a limit starts a fresh receive
   * count instead of running into the redrive backstop. Throws when the send fails: the caller
   * then keeps the original message.
   */
  async requeue(record: SQSRecord, seconds: number, groupId: string | undefined): Promise<void> {
    await this.o.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.o.queueUrl,
        MessageBody: record.body,
        DelaySeconds: Math.min(900, Math.max(0, Math.ceil(seconds))),
        ...(groupId === undefined ? {} : { MessageGroupId: groupId }),
      }),
    );
  }

  /**
   * Send the original body to the lane's DLQ with the reason in message attributes. Returns false
   * (and logs) when the send failed: the caller then reports the message as a batch failure so it
   * is never lost.
   */
  async deadLetter(record: SQSRecord, error: unknown, attempts: number, now: Date): Promise<boolean> {
    const { type, message } = describeError(error);
    const failedAt = now.toISOString();
    const firstFailedAt = record.messageAttributes?.[DLQ_ATTR.firstFailedAt]?.stringValue ?? failedAt;
    const attributes: Record<string, MessageAttributeValue> = {
      [DLQ_ATTR.error]: {
        DataType: 'String',
        StringValue: truncate(message || '(no message)', DLQ_ERROR_CHARS),
      },
      [DLQ_ATTR.errorType]: { DataType: 'String', StringValue: type || 'Error' },
      [DLQ_ATTR.failedAt]: { DataType: 'String', StringValue: failedAt },
      [DLQ_ATTR.attempts]: { DataType: 'Number', StringValue: String(attempts) },
      [DLQ_ATTR.firstFailedAt]: { DataType: 'String', StringValue: firstFailedAt },
    };
    try {
      await this.o.sqs.send(
        new SendMessageCommand({
          QueueUrl: this.o.dlqUrl,
          // SQS rejects empty bodies; an empty body can only be a malformed message anyway.
          MessageBody: record.body.length > 0 ? record.body : '(empty body)',
          MessageAttributes: attributes,
          ...(this.o.fifo
            ? {
                MessageGroupId: record.attributes.MessageGroupId ?? 'default',
                MessageDeduplicationId: record.messageId,
              }
            : {}),
        }),
      );
      return true;
    } catch (sendError) {
      this.o.logger.error('Dead-letter send failed; the message stays on the lane', {
        messageId: record.messageId,
        error: describeError(sendError),
      });
      return false;
    }
  }
}

function clampVisibility(seconds: number): number {
  return Math.min(MAX_BACKOFF_SECONDS, Math.max(0, Math.ceil(seconds)));
}
