/**
 * `JobClient.listJobs`: jobs by status, newest status change first, from the ledger's search index
 * (SEARCH_INDEX, opt-in with `jobSearch: true`).
 *
 * The index is sharded: each status has SEARCH_INDEX.shards partitions (`<STATUS>#<shard>`), each
 * sorted by `statusAt`. A listing queries every partition of the requested statuses newest-first
 * and merges them (a k-way merge), so a page is the `limit` newest jobs over all of them.
 *
 * The cursor is opaque to callers: base64url JSON holding the filters and, per partition, the
 * position after the last job taken (or that the partition is exhausted). The next page resumes
 * every partition exactly there, so pages never repeat or skip a job.
 */
import { type AttributeValue, type DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { statusPartition } from '../ledger/history';
import { isIntInRange } from '../shared/checks';
import { LEDGER_ATTR as A, JOB_STATUSES, type JobStatus, SEARCH_INDEX } from '../shared/contract';
import { ConfigError } from '../shared/errors';
import type { JobSummary, ListJobsOptions, ListJobsPage } from './types';

/** `listJobs`'s page size when none is given, and the largest one. */
export const LIST_JOBS_DEFAULT_LIMIT = 50;
export const LIST_JOBS_MAX_LIMIT = 1000;

/**
 * Items a Query reads at least. Job ids hash evenly over the shards, so a page of `limit` jobs
 * takes about limit / shards from each: a partition's first Query reads a little more than that
 * share, and each further Query of one refill reads twice as many as the one before (a shard
 * that holds more of the newest jobs, or a filter that matches few, costs log-many calls).
 */
const QUERY_LIMIT_MIN = 10;

export interface JobSearchOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** The config's `searchIndex`; absent when the queue has no index. */
  readonly indexName?: string;
  readonly now: () => number;
}

/** The filters a cursor was made with; a cursor only continues the same listing. */
interface Filters {
  /** Statuses, in JOB_STATUSES order. */
  readonly s: readonly JobStatus[];
  readonly t?: string;
  readonly l?: string;
  /** since, ISO-8601 (inclusive). */
  readonly a?: string;
  /** until, ISO-8601 (exclusive); fixed on the first page. */
  readonly b: string;
}

/** A partition's position: `[jobId, statusAt]` of the last item passed, or `0` when exhausted. */
type Position = readonly [string, string] | 0;

interface CursorData {
  readonly v: 1;
  readonly f: Filters;
  /** Partitions not named here start from the top. */
  readonly p: Readonly<Record<string, Position>>;
}

interface Partition {
  readonly key: string;
  readonly status: JobStatus;
  /** Where this page started in the partition (undefined: at the top). */
  readonly origin?: readonly [string, string];
  /** Where the next Query starts (undefined: from the top). */
  startAfter?: readonly [string, string];
  /** No more items after `startAfter`. */
  drained: boolean;
  /** Matching items read but not yet taken, newest first. */
  buffer: JobSummary[];
  /** The last item taken from this partition on this page. */
  lastTaken?: readonly [string, string];
}

export class JobSearch {
  constructor(private readonly options: JobSearchOptions) {}

  async list(options: ListJobsOptions = {}): Promise<ListJobsPage> {
    const indexName = this.options.indexName;
    if (indexName === undefined) {
      throw new ConfigError(
        "listJobs: the JobQueue config's 'searchIndex'",
        'set: turn the ledger search index on with `jobSearch: true` on the JobQueue and deploy',
        undefined,
      );
    }
    const limit = options.limit ?? LIST_JOBS_DEFAULT_LIMIT;
    if (!isIntInRange(limit, 1, LIST_JOBS_MAX_LIMIT)) {
      throw new ConfigError('listJobs option limit', `an integer from 1 to ${LIST_JOBS_MAX_LIMIT}`, limit);
    }
    const cursor = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
    const filters = this.filters(options, cursor?.f);
    if (cursor && !sameFilters(cursor.f, filters)) {
      throw new ConfigError(
        'listJobs option cursor',
        `the cursor of a listing with the same filters (it was made for ${describeFilters(cursor.f)})`,
        describeFilters(filters),
      );
    }
    const partitions = filters.s.flatMap((status) =>
      Array.from({ length: SEARCH_INDEX.shards }, (_, shard): Partition => {
        const key = statusPartition(status, shard);
        const position = cursor?.p[key];
        const origin = position === undefined || position === 0 ? undefined : position;
        return {
          key,
          status,
          origin,
          startAfter: origin,
          drained: position === 0,
          buffer: [],
        };
      }),
    );
    if (cursor) {
      const known = new Set(partitions.map((p) => p.key));
      const stray = Object.keys(cursor.p).find((key) => !known.has(key));
      if (stray !== undefined) throw badCursor(options.cursor ?? '');
    }
    // An empty time range (since = until) has nothing to list.
    if (filters.a !== undefined && filters.a >= filters.b) return { jobs: [] };

    const jobs: JobSummary[] = [];
    for (;;) {
      // Refill before checking the count: after the last job taken this probes whether more follow.
      const empty = partitions.filter((p) => p.buffer.length === 0 && !p.drained);
      const share = Math.ceil((limit - jobs.length) / partitions.length) + 1;
      await Promise.all(empty.map((p) => this.refill(indexName, p, filters, share)));
      const next = newestHead(partitions);
      if (next === undefined || jobs.length === limit) break;
      const job = next.buffer.shift() as JobSummary;
      next.lastTaken = [job.jobId, job.statusAt];
      jobs.push(job);
    }
    const more = partitions.some((p) => p.buffer.length > 0);
    return more ? { jobs, cursor: encodeCursor({ v: 1, f: filters, p: positions(partitions) }) } : { jobs };
  }

  /** The options as cursor filters; with a cursor, an absent `until` is the cursor's (the first page's now). */
  private filters(options: ListJobsOptions, previous: Filters | undefined): Filters {
    const requested =
      options.status === undefined
        ? JOB_STATUSES
        : typeof options.status === 'string'
          ? [options.status]
          : options.status;
    if (!Array.isArray(requested) || requested.length === 0) {
      throw new ConfigError(
        'listJobs option status',
        `a status or a non-empty list of ${JOB_STATUSES.join(', ')}`,
        options.status,
      );
    }
    for (const status of requested) {
      if (!(JOB_STATUSES as readonly unknown[]).includes(status)) {
        throw new ConfigError('listJobs option status', `one of ${JOB_STATUSES.join(', ')}`, status);
      }
    }
    const s = JOB_STATUSES.filter((status) => requested.includes(status));
    for (const [name, value] of [
      ['type', options.type],
      ['lane', options.lane],
    ] as const) {
      if (value !== undefined && (typeof value !== 'string' || value === '')) {
        throw new ConfigError(`listJobs option ${name}`, 'a non-empty string', value);
      }
    }
    const since = options.since === undefined ? undefined : isoDate('since', options.since);
    const until =
      options.until !== undefined
        ? isoDate('until', options.until)
        : (previous?.b ?? new Date(this.options.now()).toISOString());
    if (since !== undefined && since > until) {
      throw new ConfigError('listJobs option since', `at or before until (${until})`, since);
    }
    return {
      s,
      ...(options.type !== undefined ? { t: options.type } : {}),
      ...(options.lane !== undefined ? { l: options.lane } : {}),
      ...(since !== undefined ? { a: since } : {}),
      b: until,
    };
  }

  /**
   * Queries a partition until it yields a matching job or ends. Query's Limit counts items read
   * before the type / lane filter, so a sparse filter may need several calls.
   */
  private async refill(indexName: string, p: Partition, filters: Filters, share: number): Promise<void> {
    const names: Record<string, string> = { '#pk': A.statusKey, '#sk': A.statusAt };
    const values: Record<string, AttributeValue> = {
      ':pk': { S: p.key },
      // `until` is exclusive; ISO-8601 strings of one format compare in time order.
      ':until': { S: new Date(Date.parse(filters.b) - 1).toISOString() },
    };
    let range = '#sk <= :until';
    if (filters.a !== undefined) {
      range = '#sk BETWEEN :since AND :until';
      values[':since'] = { S: filters.a };
    }
    const filter: string[] = [];
    if (filters.t !== undefined) {
      names['#type'] = A.type;
      values[':type'] = { S: filters.t };
      filter.push('#type = :type');
    }
    if (filters.l !== undefined) {
      names['#lane'] = A.lane;
      values[':lane'] = { S: filters.l };
      filter.push('#lane = :lane');
    }
    let queryLimit = Math.min(LIST_JOBS_MAX_LIMIT, Math.max(QUERY_LIMIT_MIN, share));
    while (p.buffer.length === 0 && !p.drained) {
      const out = await this.options.client.send(
        new QueryCommand({
          TableName: this.options.tableName,
          IndexName: indexName,
          KeyConditionExpression: `#pk = :pk AND ${range}`,
          ...(filter.length ? { FilterExpression: filter.join(' AND ') } : {}),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ScanIndexForward: false,
          Limit: queryLimit,
          ...(p.startAfter ? { ExclusiveStartKey: startKey(p.key, p.startAfter) } : {}),
        }),
      );
      p.buffer.push(...(out.Items ?? []).map((item) => summary(item, p.status)));
      queryLimit = Math.min(LIST_JOBS_MAX_LIMIT, queryLimit * 2);
      const lastId = out.LastEvaluatedKey?.[A.jobId]?.S;
      const lastAt = out.LastEvaluatedKey?.[A.statusAt]?.S;
      if (lastId !== undefined && lastAt !== undefined) {
        p.startAfter = [lastId, lastAt];
      } else {
        p.drained = true;
      }
    }
  }
}

/** The partition whose next job changed status most recently (ties: the first partition). */
function newestHead(partitions: readonly Partition[]): Partition | undefined {
  let best: Partition | undefined;
  for (const p of partitions) {
    const head = p.buffer[0];
    if (head && (best === undefined || head.statusAt > best.buffer[0].statusAt)) best = p;
  }
  return best;
}

/**
 * Each partition's position for the next page: after its last job taken while it still holds
 * unread matches; else where its Query stopped (what lies between was filtered out), or exhausted.
 */
function positions(partitions: readonly Partition[]): Record<string, Position> {
  const out: Record<string, Position> = {};
  for (const p of partitions) {
    if (p.buffer.length > 0) {
      const at = p.lastTaken ?? p.origin;
      if (at) out[p.key] = at;
    } else if (p.drained) {
      out[p.key] = 0;
    } else if (p.startAfter) {
      out[p.key] = p.startAfter;
    }
  }
  return out;
}

/** An index ExclusiveStartKey: the index keys plus the table key. */
function startKey(
  partition: string,
  [jobId, statusAt]: readonly [string, string],
): Record<string, AttributeValue> {
  return { [A.jobId]: { S: jobId }, [A.statusKey]: { S: partition }, [A.statusAt]: { S: statusAt } };
}

function summary(item: Record<string, AttributeValue>, status: JobStatus): JobSummary {
  const s = (name: string) => item[name]?.S;
  const optional = (name: keyof JobSummary, attr: string) =>
    s(attr) !== undefined ? { [name]: s(attr) } : {};
  return {
    jobId: s(A.jobId) ?? '',
    status,
    statusAt: s(A.statusAt) ?? '',
    ...optional('type', A.type),
    ...optional('lane', A.lane),
    attempts: Number(item[A.attempts]?.N ?? 0),
    ...optional('enqueuedAt', A.enqueuedAt),
    ...optional('finishedAt', A.finishedAt),
    ...optional('tenant', A.tenant),
    ...optional('group', A.group),
  };
}

function isoDate(name: string, value: unknown): string {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new ConfigError(`listJobs option ${name}`, 'a valid Date', value);
  }
  return value.toISOString();
}

function sameFilters(a: Filters, b: Filters): boolean {
  return a.s.join() === b.s.join() && a.t === b.t && a.l === b.l && a.a === b.a && a.b === b.b;
}

function describeFilters(f: Filters): string {
  return [
    `status ${f.s.join(',')}`,
    f.t !== undefined ? `type ${f.t}` : undefined,
    f.l !== undefined ? `lane ${f.l}` : undefined,
    f.a !== undefined ? `since ${f.a}` : undefined,
    `until ${f.b}`,
  ]
    .filter((part) => part !== undefined)
    .join(', ');
}

/**
 * The time bounds a cursor was made with (undefined for a malformed cursor). For callers that
 * state bounds relative to now (the CLI's `--since 1h`): the next page keeps the first page's.
 */
export function cursorTimes(cursor: string): { readonly since?: Date; readonly until: Date } | undefined {
  try {
    const { f } = decodeCursor(cursor);
    return { ...(f.a !== undefined ? { since: new Date(f.a) } : {}), until: new Date(f.b) };
  } catch {
    return undefined;
  }
}

function encodeCursor(data: CursorData): string {
  return Buffer.from(JSON.stringify(data)).toString('base64url');
}

function badCursor(cursor: string): ConfigError {
  return new ConfigError(
    'listJobs option cursor',
    'the `cursor` of a previous listJobs page, unchanged',
    cursor.length > 40 ? `${cursor.slice(0, 40)}…` : cursor,
  );
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const isString = (v: unknown): v is string => typeof v === 'string';

function decodeCursor(cursor: string): CursorData {
  let data: unknown;
  try {
    if (typeof cursor !== 'string' || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('not base64url');
    data = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (cause) {
    throw Object.assign(badCursor(String(cursor)), { cause });
  }
  const d = data as Partial<CursorData> | null;
  const f = d?.f as Partial<Filters> | undefined;
  const valid =
    d?.v === 1 &&
    typeof f === 'object' &&
    f !== null &&
    Array.isArray(f.s) &&
    f.s.length > 0 &&
    f.s.every((s) => (JOB_STATUSES as readonly unknown[]).includes(s)) &&
    (f.t === undefined || isString(f.t)) &&
    (f.l === undefined || isString(f.l)) &&
    (f.a === undefined || (isString(f.a) && ISO.test(f.a))) &&
    isString(f.b) &&
    ISO.test(f.b) &&
    typeof d.p === 'object' &&
    d.p !== null &&
    !Array.isArray(d.p) &&
    Object.values(d.p).every(
      (pos) => pos === 0 || (Array.isArray(pos) && pos.length === 2 && pos.every(isString)),
    );
  if (!valid) throw badCursor(cursor);
  return d as CursorData;
}
