/** `cancel <jobId>` / `cancel --type <type> --key <key>`: stop a job before or while it runs. */
import { isJobType, JOB_TYPE_RULE } from '../../lambdas/shared/checks';
import { LIMIT_ITEM_PREFIX } from '../../lambdas/shared/contract';
import { UsageError } from '../errors';
import { flagError, IDEMPOTENCY_KEY_RULE, isIdempotencyKey, jobIdArg } from '../flags';
import { json, keyValues } from '../render';
import type { CommandSpec } from './types';

const USAGE = 'Usage: sqs-jobs cancel <jobId>  or  sqs-jobs cancel --type <type> --key <key>';

export const cancelCommand: CommandSpec = {
  name: 'cancel',
  args: [],
  optionalArgs: ['<jobId>'],
  summary: 'Cancel a job by id, or by job type and idempotency key',
  description: [
    'Give the job id, or --type with --key (the idempotency key it was enqueued with); not both.',
    '- queued, delayed or waiting for a retry: CANCELLED, it never runs (a one-time schedule',
    '  holding a delayed job is deleted; a delivery of it is acknowledged unrun);',
    '- running: asked to stop; its consumer aborts the handler within one heartbeat',
    "  (the job's heartbeatSeconds, 10 s by default) and records CANCELLED, unless it finishes first;",
    '- finished (SUCCEEDED, DEAD, CANCELLED): nothing to cancel, a no-op (exit 0).',
    "Job types with idempotency 'none' read nothing before they run, so they cannot be cancelled",
    'before they run. Needs the permissions of grantCancel (part of grantOperate).',
  ].join('\n'),
  options: {
    type: {
      type: 'string',
      valueName: 'type',
      description: 'Job type of a keyed job (with --key, instead of <jobId>)',
    },
    key: {
      type: 'string',
      valueName: 'key',
      description: 'Idempotency key the job was enqueued with (with --type)',
    },
  },
  examples: [
    'sqs-jobs cancel k-3f2a...',
    'sqs-jobs cancel --type generate-report --key report-42',
    'sqs-jobs cancel 0b6f1c2e-... --json | jq .outcome',
  ],
  async run({ args, values, stack, globals, out }) {
    const target = cancelTarget(args[0], values.type as string | undefined, values.key as string | undefined);
    const client = await stack.jobClient();
    const result = await client.cancel(target);
    if (globals.json) {
      out(json(result));
    } else {
      out(`${result.message}\n${keyValues([['status', result.status]])}`);
    }
    return 0;
  },
};

/** Exactly one of the two forms, checked before any AWS call. */
function cancelTarget(
  jobId: string | undefined,
  type: string | undefined,
  key: string | undefined,
): string | { type: string; key: string } {
  if (jobId !== undefined) {
    if (type !== undefined || key !== undefined) {
      const given = [`<jobId> '${jobId}'`];
      if (type !== undefined) given.push(`--type '${type}'`);
      if (key !== undefined) given.push(`--key '${key}'`);
      throw new UsageError(`'cancel' takes <jobId> or --type with --key, not both; got ${given.join(', ')}`, {
        hint: USAGE,
      });
    }
    // The ledger would otherwise write a CANCELLED job item over a limiter's key.
    if (jobId.startsWith(LIMIT_ITEM_PREFIX)) {
      throw flagError(
        '<jobId>',
        `a job id (ids starting with '${LIMIT_ITEM_PREFIX}' name rate and concurrency limiter items, not jobs)`,
        jobId,
      );
    }
    return jobIdArg(jobId);
  }
  if (type === undefined && key === undefined) {
    throw new UsageError("'cancel' needs <jobId>, or --type <type> with --key <key>", { hint: USAGE });
  }
  if (type === undefined) {
    throw new UsageError(
      `--key needs --type <type> (the job type the key belongs to); got --key '${key}' alone`,
      {
        hint: USAGE,
      },
    );
  }
  if (key === undefined) {
    throw new UsageError(`--type needs --key <key> (the job's idempotency key); got --type '${type}' alone`, {
      hint: `${USAGE}. A job enqueued without a key is cancelled by its id.`,
    });
  }
  if (!isJobType(type)) throw flagError('--type', `a job type: ${JOB_TYPE_RULE}`, type);
  if (!isIdempotencyKey(key)) throw flagError('--key', IDEMPOTENCY_KEY_RULE, key);
  return { type, key };
}
