/** `jobs list`: jobs by status, type, lane and time, newest status change first (the search index). */
import { cursorTimes, LIST_JOBS_DEFAULT_LIMIT, LIST_JOBS_MAX_LIMIT } from '../../lambdas/client/search';
import type { ListJobsOptions } from '../../lambdas/client/types';
import { JOB_STATUSES, type JobStatus } from '../../lambdas/shared/contract';
import { isJobsError } from '../../lambdas/shared/errors';
import { NotFoundError } from '../errors';
import { flagError, wholeNumber } from '../flags';
import { json, table } from '../render';
import type { CommandSpec } from './types';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** A relative time reaches back at most this far (the ledger TTL is at most 365 days). */
const MAX_AGO_MS = 400 * UNIT_MS.d;
const TIME_RULE = 'a duration back from now (30s, 30m, 1h, 2d) or an ISO-8601 time (2026-03-01T12:00:00Z)';

const RELATIVE = /^(\d{1,6})([smhd])$/;

/** `--since` / `--until`: `<n>s|m|h|d` ago, or an ISO-8601 date or time. */
export function parseTime(flag: string, raw: string, now: number): Date {
  const relative = RELATIVE.exec(raw);
  if (relative) {
    const ms = Number(relative[1]) * UNIT_MS[relative[2] as keyof typeof UNIT_MS];
    if (ms > MAX_AGO_MS) throw flagError(flag, `${TIME_RULE}, at most 400 days back`, raw);
    return new Date(now - ms);
  }
  const iso = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?)?$/.test(raw);
  const at = Date.parse(raw);
  if (!iso || Number.isNaN(at)) throw flagError(flag, TIME_RULE, raw);
  return new Date(at);
}

/** `--status DEAD,FAILED`: known statuses, case-insensitive. */
export function parseStatuses(raw: string): JobStatus[] {
  const words = raw.split(',').map((w) => w.trim().toUpperCase());
  const unknown = words.find((w) => !(JOB_STATUSES as readonly string[]).includes(w));
  if (unknown !== undefined) {
    throw flagError('--status', `one or more of ${JOB_STATUSES.join(', ')}, separated by commas`, raw);
  }
  return [...new Set(words)] as JobStatus[];
}

export const jobsListCommand: CommandSpec = {
  name: 'jobs list',
  args: [],
  summary: 'List jobs by status, type, lane and time, newest status change first (needs jobSearch: true)',
  description: [
    "Reads the ledger's search index (JobQueue `jobSearch: true`): one Query per status shard",
    '(8 per status), more when --type / --lane match few jobs. The time filters apply to the time',
    'of the last status change. In text mode the last line gives the --cursor of the next page;',
    'with --json the output is { jobs, cursor }. Repeat the same flags with --cursor: a relative',
    '--since / --until (1h) keeps the time the first page resolved it to. Needs grantOperate',
    '(or grantStatusRead): dynamodb:Query on the index.',
  ].join('\n'),
  options: {
    status: {
      type: 'string',
      valueName: 'S[,S…]',
      description: `Only these statuses: ${JOB_STATUSES.join(', ')} (default: all)`,
    },
    type: { type: 'string', valueName: 'type', description: 'Only jobs of this type' },
    lane: { type: 'string', valueName: 'lane', description: 'Only jobs on this lane' },
    since: {
      type: 'string',
      valueName: 'time',
      description: 'Status changed at or after: 30m, 1h, 2d back, or an ISO-8601 time',
    },
    until: {
      type: 'string',
      valueName: 'time',
      description: 'Status changed before (default: now), same forms',
    },
    limit: {
      type: 'string',
      valueName: 'n',
      description: `Jobs per page, 1 to ${LIST_JOBS_MAX_LIMIT} (default ${LIST_JOBS_DEFAULT_LIMIT})`,
    },
    cursor: { type: 'string', valueName: 'cursor', description: 'Continue from the page that printed it' },
  },
  examples: [
    'sqs-jobs jobs list --status DEAD --since 1h',
    'sqs-jobs jobs list --status RUNNING,FAILED --type flaky-task --lane default --limit 20',
    'sqs-jobs jobs list --status SUCCEEDED --since 2026-03-01T00:00:00Z --until 2026-03-02T00:00:00Z --json',
  ],
  async run({ values, stack, globals, io, out }) {
    const options = listOptions(values, io.now());
    const client = await stack.jobClient();
    if (client.config.searchIndex === undefined) {
      throw new NotFoundError(`Stack '${stack.options.stack}' has no job search index`, {
        hint: 'Set `jobSearch: true` on the JobQueue and deploy (it adds the index to the ledger).',
      });
    }
    const page = await client.listJobs(options).catch((error: unknown) => {
      // A cursor of another listing (other filters) or an edited one is a bad flag value.
      if (isJobsError(error) && (error as { setting?: string }).setting === 'listJobs option cursor') {
        throw flagError(
          '--cursor',
          'the cursor a listing with the same filters printed',
          options.cursor ?? '',
          error.message,
        );
      }
      throw error;
    });
    if (globals.json) {
      out(json({ jobs: page.jobs, ...(page.cursor ? { cursor: page.cursor } : {}) }));
      return 0;
    }
    if (page.jobs.length === 0) {
      out(options.cursor ? 'No more jobs.\n' : 'No jobs match.\n');
      return 0;
    }
    out(
      table(
        ['ID', 'STATUS', 'TYPE', 'LANE', 'ATTEMPTS', 'STATUS AT'],
        page.jobs.map((j) => [j.jobId, j.status, j.type, j.lane, j.attempts, j.statusAt]),
      ),
    );
    if (page.cursor) out(`Next page: --cursor ${page.cursor}\n`);
    return 0;
  },
};

function listOptions(
  values: Readonly<Record<string, string | boolean | undefined>>,
  now: number,
): ListJobsOptions {
  const text = (name: string) => values[name] as string | undefined;
  const raw = {
    status: text('status'),
    since: text('since'),
    until: text('until'),
    limit: text('limit'),
    type: text('type'),
    lane: text('lane'),
  };
  const cursor = text('cursor');
  // A relative time means "back from the first page's now": later pages keep the cursor's bound.
  const kept = cursor === undefined ? undefined : cursorTimes(cursor);
  const time = (flag: '--since' | '--until', value: string | undefined, fromCursor: Date | undefined) => {
    if (value === undefined) return undefined;
    const at = parseTime(flag, value, now);
    return kept && fromCursor && RELATIVE.test(value) ? fromCursor : at;
  };
  const since = time('--since', raw.since, kept?.since);
  const until = time('--until', raw.until, kept?.until);
  if (since && until && since > until) {
    throw flagError('--since', `at or before --until (${until.toISOString()})`, raw.since ?? '');
  }
  for (const name of ['type', 'lane'] as const) {
    if (raw[name] !== undefined && raw[name].trim() === '')
      throw flagError(`--${name}`, 'not empty', raw[name]);
  }
  return {
    ...(raw.status !== undefined ? { status: parseStatuses(raw.status) } : {}),
    ...(raw.type !== undefined ? { type: raw.type } : {}),
    ...(raw.lane !== undefined ? { lane: raw.lane } : {}),
    ...(since ? { since } : {}),
    ...(until ? { until } : {}),
    ...(raw.limit !== undefined ? { limit: wholeNumber('--limit', raw.limit, 1, LIST_JOBS_MAX_LIMIT) } : {}),
    ...(cursor !== undefined ? { cursor } : {}),
  };
}
