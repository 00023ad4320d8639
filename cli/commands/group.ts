/** `group <groupId>` and `chain <chainId>`: the state of a group of jobs or a chain. */
import type { JobChainStatus, JobGroupStatus } from '../../lambdas/client/types';
import { isWorkflowId, WORKFLOW_ID_RULE } from '../../lambdas/shared/checks';
import { NotFoundError } from '../errors';
import { flagError } from '../flags';
import { json, keyValues, progressBar, table } from '../render';
import type { CommandSpec } from './types';

function workflowIdArg(name: string, raw: string): string {
  if (!isWorkflowId(raw)) throw flagError(name, WORKFLOW_ID_RULE, raw);
  return raw;
}

export const groupCommand: CommandSpec = {
  name: 'group',
  args: ['<groupId>'],
  summary: 'Show a group of jobs (enqueueGroup): counts, state, callbacks, failed members',
  description: [
    'Reads the group item and its counter shards from the ledger (strongly consistent).',
    'pending = total - succeeded - dead - cancelled. COMPLETE: every member finished and the',
    'callbacks were enqueued (each exactly once).',
    '--settle sends the callbacks of a group whose members all finished but that is not COMPLETE',
    '(its last settle failed after retries); it is idempotent. Needs grantOperate.',
  ].join('\n'),
  options: {
    settle: { type: 'boolean', description: 'Settle a finished group left unsettled (idempotent)' },
  },
  examples: ['sqs-jobs group nightly-import-2026-12-02', 'sqs-jobs group 0b6f1c2e-... --json | jq .pending'],
  async run({ args, values, stack, globals, out }) {
    const groupId = workflowIdArg('<groupId>', args[0]);
    const client = await stack.jobClient();
    const group = values.settle ? await client.settleGroup(groupId) : await client.getGroup(groupId);
    if (!group) {
      throw new NotFoundError(`No group '${groupId}' in table ${client.config.tableName}`, {
        hint: 'Check the id and --stack. Group items expire with the ledger TTL.',
      });
    }
    out(globals.json ? json(group) : renderGroup(group));
    return 0;
  },
};

export function renderGroup(g: JobGroupStatus): string {
  const finished = g.succeeded + g.dead + g.cancelled;
  return keyValues([
    ['groupId', g.groupId],
    ['state', g.state],
    ['progress', progressBar(finished, g.total)],
    ['total', g.total],
    ['pending', g.pending],
    ['succeeded', g.succeeded],
    ['dead', g.dead],
    ['cancelled', g.cancelled],
    ['createdAt', g.createdAt],
    ['completedAt', g.completedAt],
    ['onComplete', g.callbacks.onComplete],
    ['onSuccess', g.callbacks.onSuccess],
    ['failedJobIds', g.failedJobIds?.length ? g.failedJobIds.join(', ') : undefined],
  ]);
}

export const chainCommand: CommandSpec = {
  name: 'chain',
  args: ['<chainId>'],
  summary: 'Show a chain of jobs (enqueueChain): its state and each step',
  description:
    'Reads the chain item and each step job from the ledger. A step that ended DEAD or CANCELLED stops the chain (FAILED).',
  options: {},
  examples: ['sqs-jobs chain order-42-fulfilment', 'sqs-jobs chain 0b6f1c2e-... --json | jq .state'],
  async run({ args, stack, globals, out }) {
    const chainId = workflowIdArg('<chainId>', args[0]);
    const client = await stack.jobClient();
    const chain = await client.getChain(chainId);
    if (!chain) {
      throw new NotFoundError(`No chain '${chainId}' in table ${client.config.tableName}`, {
        hint: 'Check the id and --stack. Chain items expire with the ledger TTL.',
      });
    }
    out(globals.json ? json(chain) : renderChain(chain));
    return 0;
  },
};

export function renderChain(c: JobChainStatus): string {
  const head = keyValues([
    ['chainId', c.chainId],
    ['state', c.state],
    ['step', c.state === 'SUCCEEDED' ? `${c.total}/${c.total}` : `${c.current + 1}/${c.total}`],
    ['createdAt', c.createdAt],
    ['finishedAt', c.finishedAt],
    [
      'stoppedAt',
      c.failed
        ? `step ${c.failed.index} (${c.failed.jobId}) ended ${c.failed.status}${c.failed.error ? `: ${c.failed.error}` : ''}`
        : undefined,
    ],
  ]);
  const steps = table(
    ['step', 'type', 'lane', 'status', 'jobId'],
    c.steps.map((s) => [String(s.index), s.type, s.lane, s.status ?? 'not enqueued', s.jobId]),
  );
  return `${head}\n${steps}`;
}
