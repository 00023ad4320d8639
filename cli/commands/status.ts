/** `status <jobId>`: the job's ledger record. */
import { effectiveDebounceSeq } from '../../lambdas/ledger/ledger';
import type { JobRecord } from '../../lambdas/shared/contract';
import { NotFoundError } from '../errors';
import { jobIdArg } from '../flags';
import { json, keyValues } from '../render';
import type { CommandSpec } from './types';

export const statusCommand: CommandSpec = {
  name: 'status',
  args: ['<jobId>'],
  summary: "Show a job's ledger record: status, attempts, timestamps, last error, result, progress, history",
  description:
    'Reads the DynamoDB job ledger (strongly consistent). Unkeyed jobs get a record when a consumer first claims them.',
  options: {},
  examples: ['sqs-jobs status 0b6f1c2e-...', 'sqs-jobs status k-3f2a... --json | jq .status'],
  async run({ args, stack, globals, out }) {
    const jobId = jobIdArg(args[0]);
    const client = await stack.jobClient();
    const record = await client.getJob(jobId);
    if (!record) {
      throw new NotFoundError(`No ledger record for job '${args[0]}' in table ${client.config.tableName}`, {
        hint: 'Check the id and --stack. An unkeyed job has no record until a consumer claims it.',
      });
    }
    out(globals.json ? json(record) : `${renderRecord(record)}${renderHistory(record)}`);
    return 0;
  },
};

/** The job-control fields, shown only when the record has them. */
function jobControl(r: JobRecord): [string, string][] {
  const rows: [string, string][] = [];
  if (r.tenant !== undefined) rows.push(['tenant', r.tenant]);
  if (r.group !== undefined) rows.push(['group', r.group]);
  // A RUNNING job's pending request is on its status line; afterwards it is history.
  if (r.cancelRequestedAt !== undefined && r.status !== 'RUNNING') {
    rows.push(['cancelRequestedAt', r.cancelRequestedAt]);
  }
  if (r.debounce !== undefined) rows.push(['debounce', debounceText(r.debounce)]);
  return rows;
}

/** `window job: 3 enqueues folded in, latest 3`; numbers whose send failed are named. */
export function debounceText(d: NonNullable<JobRecord['debounce']>): string {
  const latest = effectiveDebounceSeq(d);
  const folded = `window job: ${d.seq} enqueue${d.seq === 1 ? '' : 's'} folded in`;
  const failed = d.failed.length ? ` (send failed: ${[...d.failed].sort((a, b) => a - b).join(', ')})` : '';
  return `${folded}, ${latest === 0 ? 'none sent' : `latest ${latest}`}${failed}`;
}

/** The last status transitions, oldest first, one line each: time, status, attempt. */
export function renderHistory(r: JobRecord): string {
  if (!r.history?.length) return '';
  const width = Math.max(...r.history.map((e) => e.status.length));
  const lines = r.history.map((e) =>
    `  ${e.at}  ${e.status.padEnd(width)}${e.attempt !== undefined ? `  attempt ${e.attempt}` : ''}`.trimEnd(),
  );
  return `\nhistory (last ${r.history.length}, oldest first)\n${lines.join('\n')}\n`;
}

export function renderRecord(r: JobRecord): string {
  return keyValues([
    ['jobId', r.jobId],
    ['type', r.type],
    ['lane', r.lane],
    [
      'status',
      r.status === 'RUNNING' && r.cancelRequestedAt !== undefined
        ? `RUNNING (cancel requested at ${r.cancelRequestedAt}: it stops at its next heartbeat)`
        : r.status,
    ],
    ...jobControl(r),
    ['attempts', r.attempts],
    ['enqueuedAt', r.enqueuedAt],
    ['startedAt', r.startedAt],
    ['finishedAt', r.finishedAt],
    ['updatedAt', r.updatedAt],
    [
      'lease',
      r.leaseUntil === undefined
        ? undefined
        : `until ${new Date(r.leaseUntil).toISOString()}${r.leaseOwner ? ` (owner ${r.leaseOwner})` : ''}`,
    ],
    ['lastError', r.lastError],
    ['result', r.result === undefined ? undefined : JSON.stringify(r.result)],
    [
      'progress',
      r.progress === undefined
        ? undefined
        : typeof r.progress === 'number'
          ? String(r.progress)
          : JSON.stringify(r.progress),
    ],
    ['expiresAt', r.expiresAt === undefined ? undefined : new Date(r.expiresAt * 1000).toISOString()],
  ]);
}
