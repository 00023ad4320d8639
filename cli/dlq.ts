/**
 * Reading a DLQ without consuming it: receive with a short visibility timeout, then hand every
 * message back at once (ChangeMessageVisibility 0). A receive does raise a message's
 * ApproximateReceiveCount; DLQs have no redrive policy of their own, so that is harmless.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { DLQ_ATTR, type JobEnvelope } from '../lambdas/shared/contract';
import { readEnvelope } from '../lambdas/shared/envelope';

/** How long received messages stay hidden while a command looks at them. */
export const PEEK_VISIBILITY_SECONDS = 30;

export interface DlqMessage {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly envelope?: JobEnvelope;
  /** Job id from the envelope (also read from a malformed body when possible). */
  readonly jobId?: string;
  readonly type?: string;
  /** Set when the body is not a valid envelope. */
  readonly malformed?: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly messageAttributes: Readonly<Record<string, string>>;
}

export interface ReceiveOptions {
  /** Stop after this many messages. */
  readonly limit: number;
  /** Stop as soon as one message matches. */
  readonly until?: (message: DlqMessage) => boolean;
  readonly visibilitySeconds?: number;
}

/**
 * Receives up to `limit` messages, each once (all stay hidden until released). An empty long-poll
 * receive of 1 s ends the scan: it asks every SQS host, so an empty answer means no more
 * visible messages.
 */
export async function receiveMessages(
  sqs: SQSClient,
  queueUrl: string,
  options: ReceiveOptions,
): Promise<DlqMessage[]> {
  const seen = new Map<string, DlqMessage>();
  try {
    while (seen.size < options.limit) {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: Math.min(10, options.limit - seen.size),
          VisibilityTimeout: options.visibilitySeconds ?? PEEK_VISIBILITY_SECONDS,
          WaitTimeSeconds: 1,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['All'],
        }),
      );
      const batch = out.Messages ?? [];
      if (batch.length === 0) break;
      let matched = false;
      for (const raw of batch) {
        const message = toDlqMessage(raw);
        // A message seen twice (its visibility ran out mid-scan) keeps the newer receipt handle.
        seen.set(message.messageId, message);
        if (options.until?.(message)) matched = true;
      }
      if (matched) break;
    }
  } catch (error) {
    await release(sqs, queueUrl, [...seen.values()]).catch(() => undefined);
    throw error;
  }
  return [...seen.values()];
}

/** Makes messages visible again right away. */
export async function release(
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly DlqMessage[],
): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const chunk = messages.slice(i, i + 10);
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((m, j) => ({
          Id: String(j),
          ReceiptHandle: m.receiptHandle,
          VisibilityTimeout: 0,
        })),
      }),
    );
  }
}

/** A message matches a job id, or its own SQS message id (for bodies without a readable job id). */
export function matchesId(message: DlqMessage, id: string): boolean {
  return message.jobId === id || message.messageId === id;
}

export function toDlqMessage(raw: Message): DlqMessage {
  const body = raw.Body ?? '';
  const read = readEnvelope(body);
  const messageAttributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw.MessageAttributes ?? {})) {
    if (value.StringValue !== undefined) messageAttributes[name] = value.StringValue;
  }
  return {
    messageId: raw.MessageId ?? '',
    receiptHandle: raw.ReceiptHandle ?? '',
    body,
    envelope: read.ok ? read.envelope : undefined,
    jobId: read.ok ? read.envelope.id : read.id,
    type: read.ok ? read.envelope.type : read.type,
    malformed: read.ok ? undefined : read.error.message,
    attributes: { ...(raw.Attributes ?? {}) },
    messageAttributes,
  };
}

/** What the consumer recorded when it dead-lettered the message itself (absent after an SQS redrive). */
export function failureAttributes(m: DlqMessage) {
  const a = m.messageAttributes;
  const error = a[DLQ_ATTR.error];
  const errorType = a[DLQ_ATTR.errorType];
  return {
    error: error === undefined ? undefined : errorType ? `${errorType}: ${error}` : error,
    failedAt: a[DLQ_ATTR.failedAt],
    firstFailedAt: a[DLQ_ATTR.firstFailedAt],
    attempts: a[DLQ_ATTR.attempts] === undefined ? undefined : Number(a[DLQ_ATTR.attempts]),
  };
}
