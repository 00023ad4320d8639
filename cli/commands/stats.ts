/** `stats` and `top`: lane depths, oldest message age, DLQ depth and alarm states. */
import { UsageError } from '../errors';
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
    interval: { type: 'string', valueName: 'seconds', description: 'Refresh interval (default 2)' },
    iterations: {
      type: 'string',
      valueName: 'n',
      description: 'Stop after n refreshes (default: until Ctrl-C)',
    },
  },
  examples: ['sqs-jobs top --interval 5'],
  async run({ stack, globals, values, io, signal, out }) {
    const interval = numberFlag(values.interval as string | undefined, 2, '--interval', 0.1);
    const iterations = numberFlag(values.iterations as string | undefined, 0, '--iterations', 0);
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

function numberFlag(raw: string | undefined, fallback: number, flag: string, min: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < min) {
    throw new UsageError(`${flag} must be a number ≥ ${min}; got '${raw}'`);
  }
  return n;
}
