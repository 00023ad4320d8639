/** Polling and inspection helpers for the integration tests (real LocalStack, real consumers). */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { type CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  ChangeMessageVisibilityBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { JobRecord, JobStatus } from '../../lambdas/shared/contract';
import type { DeployedStack } from '../../scripts/local/deployed-stack';

/**
 * Polls `probe` until it returns a value other than undefined, or fails naming `what`.
 * The default bound is generous on purpose: on a busy machine a job that waits out one visibility
 * timeout (60 s) behind a cold start is slow, not broken. Tests assert on what happened, not on
 * how fast.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  { timeoutMs = 240_000, intervalMs = 500 } = {},
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
  timeoutMs = 240_000,
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
 * Every message currently visible in a queue (up to `max`), read without consuming: each one
 * received is held (short visibility timeout) until no more come, so later receives reach the
 * messages behind it, then all are made visible again at once. (Releasing after every receive
 * would hand back the same oldest messages each round: a queue with more than ten messages
 * would hide the rest, e.g. a DLQ holding earlier runs' jobs on a long-lived LocalStack.)
 */
export async function peekMessages(sqs: SQSClient, queueUrl: string, max = 50): Promise<Message[]> {
  const seen = new Map<string, Message>();
  const held: Message[] = [];
  try {
    while (seen.size < max) {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 30,
          WaitTimeSeconds: 1,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['All'],
        }),
      );
      const messages = out.Messages ?? [];
      if (messages.length === 0) break;
      held.push(...messages);
      const before = seen.size;
      for (const message of messages) seen.set(message.MessageId ?? '', message);
      // Only messages already seen: a hold lapsed (a very slow round), nothing new is reachable.
      if (seen.size === before) break;
    }
  } finally {
    for (let i = 0; i < held.length; i += 10) {
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: held.slice(i, i + 10).map((m, j) => ({
            Id: String(j),
            ReceiptHandle: m.ReceiptHandle,
            VisibilityTimeout: 0,
          })),
        }),
      );
    }
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

/**
 * The JSON log lines a consumer Lambda wrote that contain `needle` (LocalStack keeps Lambda logs
 * in CloudWatch Logs as AWS does), e.g. a job id: its outcome lines and metric documents.
 */
export async function consumerLogLines(
  logs: CloudWatchLogsClient,
  functionName: string,
  needle: string,
): Promise<Record<string, unknown>[]> {
  const lines: Record<string, unknown>[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const out = await logs.send(
      new FilterLogEventsCommand({ logGroupName: `/aws/lambda/${functionName}`, nextToken }),
    );
    for (const event of out.events ?? []) {
      const message = event.message ?? '';
      if (!message.includes(needle)) continue;
      try {
        lines.push(JSON.parse(message));
      } catch {
        // START / END / REPORT lines and other plain text
      }
    }
    nextToken = out.nextToken;
  } while (nextToken && ++pages < 200);
  return lines;
}

/** A running `sqs-jobs console` process and the URL it printed. */
export interface ConsoleProcess {
  readonly child: ChildProcess;
  /** The URL with its token, as printed. */
  readonly url: string;
  /** `http://127.0.0.1:<port>`. */
  readonly base: string;
  readonly token: string;
  /** Everything it printed so far (stdout and stderr). */
  readonly output: () => string;
}

/**
 * Starts `<command> <args…>` (an `sqs-jobs console` invocation, with `--port 0`) and waits for
 * the `open: <url>` line. `started` gets the child at once, so a caller can stop it even when the
 * wait fails.
 */
export async function spawnConsole(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; started?: (child: ChildProcess) => void },
): Promise<ConsoleProcess> {
  const child = spawn(command, [...args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  options.started?.(child);
  let output = '';
  const keep = (d: Buffer) => {
    output += d.toString();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const url = await waitFor(
    'the console to print its URL',
    async () => {
      if (child.exitCode !== null) throw new Error(`console exited ${child.exitCode}: ${output}`);
      return /^open: (http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)$/m.exec(output)?.[1];
    },
    { timeoutMs: 120_000, intervalMs: 200 },
  );
  const parsed = new URL(url);
  return {
    child,
    url,
    base: parsed.origin,
    token: parsed.searchParams.get('token') ?? '',
    output: () => output,
  };
}
