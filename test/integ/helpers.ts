/** Polling and inspection helpers for the integration tests (real LocalStack, real consumers). */
import { execFileSync } from 'node:child_process';
import {
  ChangeMessageVisibilityBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { JobRecord, JobStatus } from '../../lambdas/shared/contract';
import type { DeployedStack } from '../support/deployed-stack';

/** Polls `probe` until it returns a value other than undefined, or fails naming `what`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  { timeoutMs = 90_000, intervalMs = 500 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Waits until the job's ledger record has one of `statuses`. */
export function waitForStatus(
  stack: DeployedStack,
  jobId: string,
  statuses: JobStatus[],
  timeoutMs = 90_000,
): Promise<JobRecord> {
  return waitFor(
    `job ${jobId} to reach ${statuses.join('|')}`,
    async () => {
      const job = await stack.client.getJob(jobId);
      return job?.status && statuses.includes(job.status) ? job : undefined;
    },
    { timeoutMs },
  );
}

/**
 * Every message currently in a queue, read without consuming: received with a short visibility
 * timeout, then made visible again at once.
 */
export async function peekMessages(sqs: SQSClient, queueUrl: string, max = 50): Promise<Message[]> {
  const seen = new Map<string, Message>();
  for (let round = 0; round < 5 && seen.size < max; round++) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 20,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) break;
    for (const message of messages) seen.set(message.MessageId ?? '', message);
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((m, i) => ({
          Id: String(i),
          ReceiptHandle: m.ReceiptHandle,
          VisibilityTimeout: 0,
        })),
      }),
    );
  }
  return [...seen.values()];
}

/** The job id inside a message body, if it is a job envelope. */
export function envelopeId(message: Message): string | undefined {
  try {
    return JSON.parse(message.Body ?? '').id;
  } catch {
    return undefined;
  }
}

/** PIDs of the host-mode Lambda processes running `functionName` (LocalStack host executor). */
export function consumerPids(functionName: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', `lambda-shim.mjs --function=${functionName}`], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
