/**
 * `dlq retry <lane> <jobId>` and `dlq delete <lane> <jobId>` (Sidekiq's retry / kill).
 *
 * Retry never loses the message: it is sent to the lane first and deleted from the DLQ only after
 * the send succeeded. The ledger is left as it is (DEAD, with its last error and attempts): the
 * consumer's claim accepts DEAD jobs (DEAD → RUNNING, see lambdas/ledger/ledger.ts), so the job
 * runs again and ends SUCCEEDED or DEAD on its own.
 */
import { DeleteMessageCommand, type MessageAttributeValue, SendMessageCommand } from '@aws-sdk/client-sqs';
import { DLQ_ATTR } from '../../lambdas/shared/contract';
import type { Lane, StackContext } from '../context';
import { type DlqMessage, failureAttributes, matchesId, receiveMessages, release } from '../dlq';
import { CliError, EXIT, NotFoundError } from '../errors';
import { jobIdArg } from '../flags';
import { json, keyValues } from '../render';
import type { CommandSpec } from './types';

/** Scan at most this many DLQ messages looking for one job. */
const SCAN_LIMIT = 10_000;

export const dlqRetryCommand: CommandSpec = {
  name: 'dlq retry',
  args: ['<lane>', '<jobId>'],
  summary: 'Send one dead job back to its lane (send first, then delete from the DLQ)',
  description: [
    'The job id may also be the SQS message id (for bodies without a readable job id). The ledger',
    "keeps its DEAD record until the job runs: the consumer's claim accepts DEAD jobs.",
  ].join('\n'),
  options: {},
  examples: ['sqs-jobs dlq retry default 0b6f1c2e-...'],
  async run({ args, stack, globals, out }) {
    const result = await retryDlqJob(stack, args[0], jobIdArg(args[1]));
    out(globals.json ? json(result) : keyValues(Object.entries(result)));
    return 0;
  },
};

export interface DlqRetryResult {
  readonly action: 'retried';
  readonly lane: string;
  readonly jobId?: string;
  readonly type?: string;
  readonly dlqMessageId: string;
  readonly messageId?: string;
  readonly ledgerStatus?: string;
}

/**
 * Sends one dead job (by job id or SQS message id) from the lane's DLQ back to the lane, then
 * deletes it from the DLQ: send first, so the message is never lost. Shared by the CLI and the console.
 */
export async function retryDlqJob(
  stack: StackContext,
  laneName: string,
  id: string,
): Promise<DlqRetryResult> {
  const lane = await stack.lane(laneName);
  const message = await findInDlq(stack, lane, id);
  let sentId: string | undefined;
  try {
    const sent = await stack.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: lane.queueUrl,
        MessageBody: message.body,
        MessageAttributes: carriedAttributes(message),
        ...(lane.fifo
          ? {
              MessageGroupId: message.attributes.MessageGroupId ?? 'default',
              // The original used the job id; a retry within SQS's 5-minute window needs a new one.
              MessageDeduplicationId: `retry-${message.messageId}`.slice(0, 128),
            }
          : {}),
      }),
    );
    sentId = sent.MessageId;
  } catch (error) {
    await release(stack.clients.sqs, lane.dlqUrl, [message]).catch(() => undefined);
    throw error;
  }
  try {
    await stack.clients.sqs.send(
      new DeleteMessageCommand({ QueueUrl: lane.dlqUrl, ReceiptHandle: message.receiptHandle }),
    );
  } catch (error) {
    throw new CliError(
      `Job ${id} was sent to lane '${lane.name}' (message ${sentId}) but could not be deleted from the DLQ: ${(error as Error).message}`,
      EXIT.failure,
      {
        cause: error,
        hint: 'Delete it with `sqs-jobs dlq delete`; if it runs twice, the ledger acknowledges the duplicate.',
      },
    );
  }
  const record = message.jobId ? await (await stack.jobClient()).getJob(message.jobId) : undefined;
  return {
    action: 'retried',
    lane: lane.name,
    jobId: message.jobId,
    type: message.type,
    dlqMessageId: message.messageId,
    messageId: sentId,
    ledgerStatus: record?.status,
  };
}

export const dlqDeleteCommand: CommandSpec = {
  name: 'dlq delete',
  args: ['<lane>', '<jobId>'],
  summary: 'Remove one dead job from the DLQ for good (the ledger keeps it as DEAD)',
  options: {},
  examples: ['sqs-jobs dlq delete default 0b6f1c2e-...'],
  async run({ args, stack, globals, out }) {
    const result = await deleteDlqJob(stack, args[0], jobIdArg(args[1]));
    out(globals.json ? json(result) : keyValues(Object.entries(result)));
    return 0;
  },
};

/** Removes one dead job (by job id or SQS message id) from the lane's DLQ; the ledger keeps it DEAD. */
export async function deleteDlqJob(stack: StackContext, laneName: string, id: string) {
  const lane = await stack.lane(laneName);
  const message = await findInDlq(stack, lane, id);
  await stack.clients.sqs.send(
    new DeleteMessageCommand({ QueueUrl: lane.dlqUrl, ReceiptHandle: message.receiptHandle }),
  );
  return {
    action: 'deleted' as const,
    lane: lane.name,
    jobId: message.jobId,
    type: message.type,
    dlqMessageId: message.messageId,
  };
}

/** The job's DLQ message, still hidden (every other message seen is released). */
export async function findInDlq(stack: StackContext, lane: Lane, id: string): Promise<DlqMessage> {
  const seen = await receiveMessages(stack.clients.sqs, lane.dlqUrl, {
    limit: SCAN_LIMIT,
    until: (m) => matchesId(m, id),
  });
  const found = seen.find((m) => matchesId(m, id));
  await release(
    stack.clients.sqs,
    lane.dlqUrl,
    seen.filter((m) => m !== found),
  );
  if (!found) {
    throw new NotFoundError(
      `Job '${id}' is not in the DLQ of lane '${lane.name}' (${seen.length} messages looked at)`,
      {
        hint: `List it with: sqs-jobs dlq list ${lane.name}`,
      },
    );
  }
  return found;
}

/** Keep the first failure time across retries; the consumer copies it when it dead-letters again. */
function carriedAttributes(m: DlqMessage): Record<string, MessageAttributeValue> | undefined {
  const f = failureAttributes(m);
  const first = f.firstFailedAt ?? f.failedAt;
  return first ? { [DLQ_ATTR.firstFailedAt]: { DataType: 'String', StringValue: first } } : undefined;
}
