/** `dlq purge <lane> --yes`: delete every message in the lane's DLQ. */
import { PurgeQueueCommand } from '@aws-sdk/client-sqs';
import type { StackContext } from '../context';
import { UsageError } from '../errors';
import { json } from '../render';
import { attributes } from '../stats';
import type { CommandSpec } from './types';

export const dlqPurgeCommand: CommandSpec = {
  name: 'dlq purge',
  args: ['<lane>'],
  summary: "Delete every message in the lane's DLQ (needs --yes)",
  description:
    'PurgeQueue: irreversible, and SQS allows one purge per queue every 60 s. The ledger keeps the jobs as DEAD.',
  options: {
    yes: { type: 'boolean', short: 'y', description: 'Confirm: really delete every message' },
  },
  examples: ['sqs-jobs dlq purge low --yes'],
  async run({ args, values, stack, globals, out }) {
    if (!values.yes) {
      throw new UsageError(`Refusing to purge the ${args[0]} DLQ without --yes`, {
        hint: `Look first: sqs-jobs dlq list ${args[0]}`,
      });
    }
    const result = await purgeDlq(stack, args[0]);
    out(
      globals.json
        ? json(result)
        : `Purged the ${result.lane} DLQ (about ${result.approximateMessages} messages).\n`,
    );
    return 0;
  },
};

/** PurgeQueue on the lane's DLQ: every message goes, for good. Shared by the CLI and the console. */
export async function purgeDlq(stack: StackContext, laneName: string) {
  const lane = await stack.lane(laneName);
  const { ApproximateNumberOfMessages: visible, ApproximateNumberOfMessagesNotVisible: inFlight } =
    await attributes(stack, lane.dlqUrl, [
      'ApproximateNumberOfMessages',
      'ApproximateNumberOfMessagesNotVisible',
    ]);
  await stack.clients.sqs.send(new PurgeQueueCommand({ QueueUrl: lane.dlqUrl }));
  return { lane: lane.name, action: 'purged' as const, approximateMessages: visible + inFlight };
}
