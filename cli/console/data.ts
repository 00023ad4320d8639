/**
 * What the console's charts show: jobs finished per minute over the last hour and the failure rate.
 * From CloudWatch (the consumers' JobSucceeded / JobFailed metrics) when it has data, as on AWS;
 * else from the ledger's search index (jobs by the minute their status last changed), as on
 * LocalStack, which turns no metrics out of the consumers' logs; else nothing, saying why.
 */
import { GetMetricDataCommand, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { JOB_METRICS, type JobStatus } from '../../lambdas/shared/contract';
import type { StackContext } from '../context';

export const SERIES_MINUTES = 60;
/** The ledger fallback reads at most this many jobs (pages of 1000) per refresh. */
export const LEDGER_SERIES_MAX_JOBS = 5000;

export interface Series {
  readonly source: 'cloudwatch' | 'ledger' | 'none';
  /** Says where the figures come from, or why there are none. */
  readonly note: string;
  /** Start of each minute, epoch seconds, oldest first. */
  readonly at: number[];
  readonly succeeded: number[];
  readonly failed: number[];
  /** failed / (succeeded + failed) in percent; null for a minute with neither. */
  readonly failureRate: (number | null)[];
}

/** The minutes of the last hour, epoch seconds. */
export function minutes(now: number, count = SERIES_MINUTES): number[] {
  const last = Math.floor(now / 60_000) * 60;
  return Array.from({ length: count }, (_, i) => last - (count - 1 - i) * 60);
}

function rates(succeeded: number[], failed: number[]): (number | null)[] {
  return succeeded.map((s, i) => {
    const total = s + failed[i];
    return total === 0 ? null : Math.round((1000 * failed[i]) / total) / 10;
  });
}

export async function gatherSeries(stack: StackContext, namespace: string, now: number): Promise<Series> {
  const at = minutes(now);
  const problems: string[] = [];
  try {
    const fromMetrics = await cloudwatchSeries(stack, namespace, at);
    if (fromMetrics) return fromMetrics;
    problems.push(`CloudWatch has no ${namespace} job metrics for the last hour`);
  } catch (error) {
    problems.push(`CloudWatch metrics unavailable (${(error as Error).message})`);
  }
  const config = await stack.config();
  if (!config.searchIndex) {
    return {
      source: 'none',
      note: `${problems.join('; ')}, and the ledger has no search index to count from (JobQueue jobSearch: true).`,
      at,
      succeeded: at.map(() => 0),
      failed: at.map(() => 0),
      failureRate: at.map(() => null),
    };
  }
  return ledgerSeries(stack, at, problems);
}

async function cloudwatchSeries(
  stack: StackContext,
  namespace: string,
  at: number[],
): Promise<Series | undefined> {
  const search = (metric: string) =>
    `SUM(SEARCH('{${namespace},${JOB_METRICS.dimensions.jobType},${JOB_METRICS.dimensions.lane}} MetricName="${metric}"', 'Sum', 60))`;
  const out = await stack.clients.cloudwatch.send(
    new GetMetricDataCommand({
      StartTime: new Date(at[0] * 1000),
      EndTime: new Date((at[at.length - 1] + 60) * 1000),
      MetricDataQueries: [
        { Id: 'succeeded', Expression: search(JOB_METRICS.names.succeeded), Period: 60 },
        { Id: 'failed', Expression: search(JOB_METRICS.names.failed), Period: 60 },
      ],
    }),
  );
  const byId = new Map((out.MetricDataResults ?? []).map((r) => [r.Id, r]));
  const points = (r: MetricDataResult | undefined) => {
    const values = new Map<number, number>();
    (r?.Timestamps ?? []).forEach((t, i) => {
      values.set(Math.floor(new Date(t).getTime() / 60_000) * 60, r?.Values?.[i] ?? 0);
    });
    return values;
  };
  const s = points(byId.get('succeeded'));
  const f = points(byId.get('failed'));
  if (s.size === 0 && f.size === 0) return undefined;
  const succeeded = at.map((m) => s.get(m) ?? 0);
  const failed = at.map((m) => f.get(m) ?? 0);
  return {
    source: 'cloudwatch',
    note: `CloudWatch: ${JOB_METRICS.names.succeeded} and ${JOB_METRICS.names.failed} (every failed attempt) per minute, namespace ${namespace}.`,
    at,
    succeeded,
    failed,
    failureRate: rates(succeeded, failed),
  };
}

const FAILED_STATUSES: readonly JobStatus[] = ['FAILED', 'DEAD'];

async function ledgerSeries(stack: StackContext, at: number[], problems: string[]): Promise<Series> {
  const client = await stack.jobClient();
  const since = new Date(at[0] * 1000);
  const index = new Map(at.map((m, i) => [m, i]));
  const succeeded = at.map(() => 0);
  const failed = at.map(() => 0);
  let read = 0;
  let cursor: string | undefined;
  do {
    const page = await client.listJobs({
      status: ['SUCCEEDED', ...FAILED_STATUSES],
      since,
      limit: 1000,
      cursor,
    });
    for (const job of page.jobs) {
      const i = index.get(Math.floor(Date.parse(job.statusAt) / 60_000) * 60);
      if (i === undefined) continue;
      if (job.status === 'SUCCEEDED') succeeded[i]++;
      else failed[i]++;
    }
    read += page.jobs.length;
    cursor = page.cursor;
  } while (cursor && read < LEDGER_SERIES_MAX_JOBS);
  const capped = cursor ? ` (the latest ${read} jobs only)` : '';
  return {
    source: 'ledger',
    note: `From the ledger's search index${capped}: jobs by the minute they reached SUCCEEDED, or FAILED / DEAD (failed), as they stand now. ${problems.join('; ')}.`,
    at,
    succeeded,
    failed,
    failureRate: rates(succeeded, failed),
  };
}
