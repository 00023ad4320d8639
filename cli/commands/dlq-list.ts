/** `dlq list <lane>`: what is dead and why, without consuming or reordering the DLQ. */
import type { JobRecord } from '../../lambdas/shared/contract';
import type { Lane, StackContext } from '../context';
import { failureAttributes, matchesId, receiveMessages, release } from '../dlq';
import { wholeNumber } from '../flags';
import { clip, json, table } from '../render';
import { attributes } from '../stats';
import type { CommandSpec } from './types';

/** Every message read stays hidden until released: a bound keeps one listing from hiding a whole DLQ. */
const MAX_LIMIT = 10_000;
/** How many messages a search for one job looks through at most. */
const FIND_LIMIT = 10_000;

export interface DlqEntry {
  readonly jobId?: string;
  readonly messageId: string;
  readonly type?: string;
  readonly attempts?: number;
  readonly error?: string;
  readonly firstFailedAt?: string;
  readonly lastFailedAt?: string;
  readonly ledgerStatus?: string;
  readonly malformed?: string;
}

export const dlqListCommand: CommandSpec = {
  name: 'dlq list',
  args: ['<lane>'],
  summary: "List a lane's dead jobs: id, type, attempts, error, first and last failure",
  description: [
    'Messages are received with a 30 s visibility timeout and released (visibility 0) right after',
    'reading, so the DLQ is left as it was. Error and times come from the message attributes the',
    'consumer sets when it dead-letters a job, else from the ledger (jobs SQS redrove after the',
    "lane's max attempts). FIFO DLQs show at most one message per message group.",
  ].join('\n'),
  options: {
    limit: {
      type: 'string',
      valueName: 'n',
      description: `Read at most n messages, 1 to ${MAX_LIMIT} (default 100)`,
    },
  },
  examples: ['sqs-jobs dlq list default', 'sqs-jobs dlq list high --limit 10 --json'],
  async run({ args, values, stack, globals, out }) {
    const limit = parseLimit(values.limit as string | undefined);
    const { lane, depth, items } = await readDlq(stack, args[0], limit);
    const entries = items.map(({ body: _body, ...e }) => e);
    if (globals.json) {
      out(json({ lane: lane.name, approximateDepth: depth, shown: entries.length, jobs: entries }));
      return 0;
    }
    out(
      table(
        ['JOB ID', 'TYPE', 'ATTEMPTS', 'ERROR', 'FIRST FAILURE', 'LAST FAILURE'],
        entries.map((e) => [
          e.jobId ?? `(message ${e.messageId})`,
          e.type,
          e.attempts,
          clip(e.error ?? e.malformed, 60),
          e.firstFailedAt,
          e.lastFailedAt,
        ]),
      ),
    );
    // part of the result (how much of the DLQ the table covers), so stdout like the table
    out(`${entries.length} shown; about ${depth} in the ${lane.name} DLQ\n`);
    return 0;
  },
};

/** A DLQ message as `dlq list` and the console show it; `body` is the raw, untrusted message body. */
export type DlqItem = DlqEntry & { readonly body: string };

/**
 * Reads up to `limit` messages of the lane's DLQ and releases them at once (the DLQ is left as it
 * was), joined with their ledger records. Shared by `dlq list` and the console.
 */
export async function readDlq(
  stack: StackContext,
  laneName: string,
  limit: number,
  find?: string,
): Promise<{ lane: Lane; depth: number; items: DlqItem[]; scanned: number }> {
  const lane = await stack.lane(laneName);
  const client = await stack.jobClient();
  const { ApproximateNumberOfMessages: depth } = await attributes(stack, lane.dlqUrl, [
    'ApproximateNumberOfMessages',
  ]);
  // With `find` (a job id or message id): look through up to FIND_LIMIT messages for that one.
  const seen = await receiveMessages(
    stack.clients.sqs,
    lane.dlqUrl,
    find === undefined ? { limit } : { limit: FIND_LIMIT, until: (m) => matchesId(m, find) },
  );
  await release(stack.clients.sqs, lane.dlqUrl, seen);
  const messages = find === undefined ? seen : seen.filter((m) => matchesId(m, find));
  const records = await mapLimit(messages, 8, (m) =>
    m.jobId ? client.getJob(m.jobId).catch(() => undefined) : Promise.resolve(undefined),
  );
  return {
    lane,
    depth,
    items: messages.map((m, i) => ({ ...entry(m, records[i]), body: m.body })),
    scanned: seen.length,
  };
}

function entry(m: Parameters<typeof failureAttributes>[0], record: JobRecord | undefined): DlqEntry {
  const f = failureAttributes(m);
  return {
    jobId: m.jobId,
    messageId: m.messageId,
    type: m.type ?? record?.type,
    attempts: record?.attempts ?? f.attempts,
    error: f.error ?? record?.lastError,
    firstFailedAt: f.firstFailedAt,
    lastFailedAt: f.failedAt ?? record?.finishedAt ?? record?.updatedAt,
    ledgerStatus: record?.status,
    malformed: m.malformed,
  };
}

export function parseLimit(raw: string | undefined): number {
  return raw === undefined ? 100 : wholeNumber('--limit', raw, 1, MAX_LIMIT);
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
