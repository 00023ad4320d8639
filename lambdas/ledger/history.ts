/**
 * What every status change writes besides the status: one entry of the item's short history and,
 * when the ledger has the search index, the index's keys.
 *
 * History entries are compact strings, `<letter><attempt>@<epoch ms>` (`R2@1764684518123`: RUNNING,
 * attempt 2), about 20 bytes each; at most LEDGER_LIMITS.historyEntries are kept, so the history
 * stays near 160 bytes of the item's 1 KB budget. The attempt is left out where the writer does not
 * know it (a claim increments the count it cannot read first); decoding fills it in from the
 * RUNNING entries that follow and the item's attempt count.
 */
import { createHash } from 'node:crypto';
import {
  LEDGER_ATTR as A,
  type JobHistoryEntry,
  type JobStatus,
  LEDGER_LIMITS,
  SEARCH_INDEX,
} from '../shared/contract';
import type { Update } from './update';

const LETTER: Record<JobStatus, string> = {
  ENQUEUED: 'E',
  RUNNING: 'R',
  SUCCEEDED: 'S',
  FAILED: 'F',
  DEAD: 'D',
  CANCELLED: 'C',
};
const STATUS_OF: Record<string, JobStatus> = Object.fromEntries(
  Object.entries(LETTER).map(([status, letter]) => [letter, status as JobStatus]),
);
const ENTRY = /^([ERSFDC])(\d*)@(\d{1,15})$/;

export function encodeHistoryEntry(status: JobStatus, atMs: number, attempt?: number): string {
  return `${LETTER[status]}${attempt ?? ''}@${atMs}`;
}

/**
 * Decodes stored entries (oldest first). `attempts` is the item's run count: a RUNNING entry
 * without a number is the run counted after the RUNNING entries that follow it, and other entries
 * without one belong to the run before them.
 */
export function decodeHistory(entries: readonly string[] | undefined, attempts: number): JobHistoryEntry[] {
  if (entries === undefined) return [];
  const parsed = entries.flatMap((text) => {
    const m = ENTRY.exec(text);
    if (!m) return [];
    return [{ status: STATUS_OF[m[1]], atMs: Number(m[3]), attempt: m[2] === '' ? undefined : Number(m[2]) }];
  });
  // Walk from the newest: the latest RUNNING entry is run `attempts`, each earlier one a run before.
  let run = attempts;
  const out: JobHistoryEntry[] = [];
  for (let i = parsed.length - 1; i >= 0; i--) {
    const e = parsed[i];
    let attempt = e.attempt;
    if (e.status === 'RUNNING') {
      attempt ??= run;
      run = attempt - 1;
    } else if (attempt === undefined && e.status !== 'ENQUEUED') {
      attempt = run > 0 ? run : undefined;
    }
    out.push({
      status: e.status,
      at: new Date(e.atMs).toISOString(),
      ...(attempt !== undefined && attempt > 0 ? { attempt } : {}),
    });
  }
  return out.reverse();
}

/** Entries over this many are trimmed by a second write (down to LEDGER_LIMITS.historyEntries). */
export const HISTORY_TRIM_AT = LEDGER_LIMITS.historyEntries + 4;

/**
 * Adds a status change to an update: the history entry (appended) and, with the search index on,
 * the index keys. The caller sets the status itself.
 */
export function recordTransition(
  u: Update,
  change: {
    readonly jobId: string;
    readonly status: JobStatus;
    readonly nowMs: number;
    readonly attempt?: number;
    readonly searchIndex: boolean;
    /** The item has a history (the writer holds the lease of the claim that wrote it): append directly. */
    readonly historyExists?: boolean;
  },
): Update {
  const entry = { L: [{ S: encodeHistoryEntry(change.status, change.nowMs, change.attempt) }] };
  if (change.historyExists) u.set(A.history, entry, `list_append(#${A.history}, :${A.history})`);
  else
    u.set(A.history, entry, `list_append(if_not_exists(#${A.history}, :emptyList), :${A.history})`).value(
      ':emptyList',
      { L: [] },
    );
  if (change.searchIndex) {
    const keys = searchKeys(change.jobId, change.status, change.nowMs);
    u.set(A.statusKey, { S: keys.statusKey }).set(A.statusAt, { S: keys.statusAt });
  }
  return u;
}

/** The search index's shard of a job: spreads one status's writes over SEARCH_INDEX.shards partitions. */
export function searchShard(jobId: string): number {
  return createHash('sha256').update(jobId).digest().readUInt32BE(0) % SEARCH_INDEX.shards;
}

/** The search index keys of a job in a status since `atMs`. */
export function searchKeys(
  jobId: string,
  status: JobStatus,
  atMs: number,
): { readonly statusKey: string; readonly statusAt: string } {
  return { statusKey: statusPartition(status, searchShard(jobId)), statusAt: new Date(atMs).toISOString() };
}

/** The index partition of one status and shard: `<STATUS>#<shard>`. */
export function statusPartition(status: JobStatus, shard: number): string {
  return `${status}#${shard}`;
}
