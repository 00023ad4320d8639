/** `dlq purge <lane> --yes`: delete every message in the lane's DLQ. */
import { PurgeQueueCommand } from '@aws-sdk/client-sqs';
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
    const lane = await stack.lane(args[0]);
    const { ApproximateNumberOfMessages: visible, ApproximateNumberOfMessagesNotVisible: inFlight } =
      await attributes(stack, lane.dlqUrl, [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
      ]);
    await stack.clients.sqs.send(new PurgeQueueCommand({ QueueUrl: lane.dlqUrl }));
    const purged = visible + inFlight;
    out(
      globals.json
        ? json({ lane: lane.name, action: 'purged', approximateMessages: purged })
        : `Purged the ${lane.name} DLQ (about ${purged} messages).\n`,
    );
    return 0;
  },
};
