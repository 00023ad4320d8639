/** `stats` and `top`: lane depths, oldest message age, DLQ depth and alarm states. */
import { decimalNumber, wholeNumber } from '../flags';
import { json } from '../render';
import { gatherStats, renderStats } from '../stats';
import type { CommandSpec } from './types';

export const statsCommand: CommandSpec = {
  name: 'stats',
  args: [],
  summary: 'Per lane: visible, in flight, delayed, age of oldest message, DLQ depth; alarm states',
  description:
    'Depths come from SQS queue attributes; the age of the oldest message from CloudWatch (shown as - without data).',
  options: {},
  examples: ['sqs-jobs stats', 'sqs-jobs stats --json | jq ".lanes[] | select(.dlq > 0)"'],
  async run({ stack, globals, out }) {
    const stats = await gatherStats(stack);
    out(globals.json ? json(stats) : renderStats(stats));
    return 0;
  },
};

const CLEAR = '\x1b[2J\x1b[H';

export const topCommand: CommandSpec = {
  name: 'top',
  args: [],
  summary: 'stats, refreshed live until interrupted (Ctrl-C)',
  description: 'With --json, prints one JSON line per refresh (NDJSON).',
  options: {
    interval: {
      type: 'string',
      valueName: 'seconds',
      description: 'Refresh interval, 0.1 to 3600 (default 2)',
    },
    iterations: {
      type: 'string',
      valueName: 'n',
      description: 'Stop after n refreshes, 0 to 1000000 (default 0: until Ctrl-C)',
    },
  },
  examples: ['sqs-jobs top --interval 5'],
  async run({ stack, globals, values, io, signal, out }) {
    // Bounded above: setTimeout turns a delay over 2^31-1 ms into 1 ms, a loop hammering AWS.
    const rawInterval = values.interval as string | undefined;
    const rawIterations = values.iterations as string | undefined;
    const interval =
      rawInterval === undefined ? 2 : decimalNumber('--interval', rawInterval, 0.1, 3600, ' of seconds');
    const iterations =
      rawIterations === undefined ? 0 : wholeNumber('--iterations', rawIterations, 0, 1_000_000);
    for (let i = 1; !signal.aborted; i++) {
      const stats = await gatherStats(stack);
      if (globals.json) {
        out(`${JSON.stringify(stats)}\n`);
      } else {
        const header = `sqs-jobs top: stack ${stats.stack}, ${stats.at} (every ${interval}s, Ctrl-C to quit)\n\n`;
        out(`${io.isTTY ? CLEAR : ''}${header}${renderStats(stats)}${io.isTTY ? '' : '\n'}`);
      }
      if (iterations > 0 && i >= iterations) break;
      await io.sleep(interval * 1000, signal);
    }
    return 0;
  },
};
