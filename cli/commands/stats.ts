/** `stats` and `top`: lane depths, oldest message age, DLQ depth and alarm states. */
import { decimalNumber, wholeNumber } from '../flags';
import { loadRegistry, REGISTRY_ENV, registryPath } from '../registry-loader';
import { json } from '../render';
import { gatherStats, renderStats } from '../stats';
import type { CommandSpec, OptionSpec, RunContext } from './types';

const REGISTRY_OPTION: OptionSpec = {
  type: 'string',
  valueName: 'path',
  description: `Module exporting the job registry, for the Limits section (default $${REGISTRY_ENV}, else the example registry)`,
};

const LIMITS_HELP = [
  'Limits: the job types of the registry that declare rateLimit, concurrency or debounce, with the',
  'limit in words, whether it is per key, and for limits shared by the whole type the state now',
  '(tokens left, runs holding a slot), read from the ledger table (dynamodb:GetItem, in grantOperate).',
  'No section when no job type declares one.',
].join('\n');

/** Loaded before any AWS call: a bad --registry is a usage error, like enqueue's. */
function registryFor({ values, io }: RunContext) {
  return loadRegistry(registryPath(values.registry as string | undefined, io.env), io.cwd);
}

export const statsCommand: CommandSpec = {
  name: 'stats',
  args: [],
  summary:
    'Per lane: visible, in flight, delayed, age of oldest message, DLQ depth; alarm states; job type limits',
  description: [
    'Depths come from SQS queue attributes; the age of the oldest message from CloudWatch (shown as - without data).',
    LIMITS_HELP,
  ].join('\n'),
  options: { registry: REGISTRY_OPTION },
  examples: [
    'sqs-jobs stats',
    'sqs-jobs stats --json | jq ".lanes[] | select(.dlq > 0)"',
    'sqs-jobs stats --registry dist/jobs.js --json | jq ".limits"',
  ],
  async run(ctx) {
    const { stack, globals, out } = ctx;
    const registry = await registryFor(ctx);
    const stats = await gatherStats(stack, registry);
    out(globals.json ? json(stats) : renderStats(stats));
    return 0;
  },
};

const CLEAR = '\x1b[2J\x1b[H';

export const topCommand: CommandSpec = {
  name: 'top',
  args: [],
  summary: 'stats, refreshed live until interrupted (Ctrl-C)',
  description: `With --json, prints one JSON line per refresh (NDJSON).\n${LIMITS_HELP}`,
  options: {
    registry: REGISTRY_OPTION,
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
  async run(ctx) {
    const { stack, globals, values, io, signal, out } = ctx;
    // Bounded above: setTimeout turns a delay over 2^31-1 ms into 1 ms, a loop hammering AWS.
    const rawInterval = values.interval as string | undefined;
    const rawIterations = values.iterations as string | undefined;
    const interval =
      rawInterval === undefined ? 2 : decimalNumber('--interval', rawInterval, 0.1, 3600, ' of seconds');
    const iterations =
      rawIterations === undefined ? 0 : wholeNumber('--iterations', rawIterations, 0, 1_000_000);
    const registry = await registryFor(ctx);
    for (let i = 1; !signal.aborted; i++) {
      const stats = await gatherStats(stack, registry);
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
