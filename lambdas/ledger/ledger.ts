/**
 * The job ledger: one DynamoDB item per job, both the idempotency record and the status record.
 * Every transition is a single conditional write; only `ConditionalCheckFailedException` is
 * caught (it means "someone else owns or finished this job"), everything else propagates.
 *
 * The SDK retries a request whose connection broke, even after the service applied it; the retry
 * then fails its condition against our own write. `claim`, `enqueue`, `removeEnqueued` and
 * `recordOutcome` recognise that case (from the item the failure returns) and report the write as
 * done. Repeating `extendLease`, `abandon` or `progress` applies the same values again (they still
 * hold their condition); a repeated `complete` or `fail` answers `false` over the item it wrote,
 * which callers only log.
 *
 * ENQUEUED ──claim──► RUNNING(lease, owner) ──complete──► SUCCEEDED
 *    ▲                     │            └────fail───────► FAILED ──claim──► RUNNING …
 *    └─ producer (keyed)   └─ lease expired: claim takes over   DEAD ──claim (redrive)──► RUNNING
 *
 * cancel: ENQUEUED | FAILED | absent ──► CANCELLED (a later delivery is acknowledged unrun);
 *         RUNNING ──► RUNNING + cancelRequestedAt (its consumer aborts the run ──► CANCELLED).
 */
import { randomUUID } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { LEDGER_ATTR as A, type JobRecord, type JobStatus, LEDGER_LIMITS } from '../shared/contract';
import { decodeRecord, encodeError, encodeProgress, encodeResult, type Item } from './codec';
import { encodeHistoryEntry, HISTORY_TRIM_AT, recordTransition, searchKeys } from './history';
import { setResultRef } from './result-ref';
import { compactPlaceholders, N, S, Update } from './update';

export interface LedgerOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Items expire this long after their last write. */
  readonly ttlSeconds: number;
  /** Clock in epoch ms (tests pin it). @default Date.now */
  readonly now?: () => number;
  /** The table has the search index (SEARCH_INDEX): status writes also set its keys. @default false */
  readonly searchIndex?: boolean;
}

export interface ClaimInput {
  readonly jobId: string;
  readonly type: string;
  readonly lane: string;
  readonly enqueuedAt: string;
  /** Random token naming this execution; only its owner may complete or fail the job. */
  readonly owner: string;
  /** Lease length in ms; another consumer may take the job over after it. */
  readonly leaseMs: number;
  readonly tenant?: string;
  /** Debounced jobs: the number the delivered message carries; only the window's latest runs. */
  readonly debounceSeq?: number;
  /** Group members: the group's id, kept on the item (the producer wrote it already). */
  readonly group?: string;
  /**
   * The caller expects no item yet (an unkeyed job's first delivery): the claim is one PutItem
   * conditional on the item being absent, a smaller request than the UpdateItem. When an item is
   * there after all, what it returns decides: a finished, cancelled or live-leased job is answered
   * from it (still one call), any other state is claimed by the UpdateItem (a second call).
   * Ignored for debounced jobs. @default false
   */
  readonly fresh?: boolean;
}

export type ClaimOutcome =
  /**
   * RUNNING under our lease. `attempts` counts this run; `takeover` when it replaced an expired
   * lease (false when only an SDK retry of an applied claim saw it, as that cannot tell).
   */
  | {
      readonly kind: 'claimed';
      readonly attempts: number;
      readonly takeover: boolean;
      /** Entries in the item's history after the claim, when known: `complete` then reads nothing back. */
      readonly historyLength?: number;
      /** This claim created the item (a `fresh` claim's PutItem): it has no earlier run's attributes. */
      readonly created?: boolean;
    }
  /** SUCCEEDED already: acknowledge without running. */
  | { readonly kind: 'finished'; readonly record: JobRecord }
  /** RUNNING under a live lease elsewhere: retry later. */
  | { readonly kind: 'busy'; readonly record?: JobRecord; readonly leaseRemainingMs: number }
  /** CANCELLED (or a cancelled run whose lease ended): acknowledge without running. */
  | { readonly kind: 'cancelled'; readonly record: JobRecord }
  /** Debounced: a later enqueue of the same window replaced this one; acknowledge without running. */
  | { readonly kind: 'superseded'; readonly record: JobRecord };

export type CancelOutcome =
  /** Was queued, delayed or waiting for a retry (or unknown): now CANCELLED, it will not run. */
  | { readonly kind: 'cancelled'; readonly previous?: JobRecord }
  /** Running: asked to stop; its consumer aborts it at the next heartbeat and records CANCELLED. */
  | { readonly kind: 'cancelling'; readonly record: JobRecord }
  /** Already SUCCEEDED, DEAD or CANCELLED: nothing was written. */
  | { readonly kind: 'finished'; readonly record: JobRecord };

export type DebounceOutcome =
  /** Folded into the window's job as enqueue number `seq`. */
  | { readonly kind: 'added'; readonly seq: number }
  /** The window's job has already started (clocks disagree about the window's end): use the next window. */
  | { readonly kind: 'closed'; readonly record?: JobRecord };

export interface KeyedEnqueueInput {
  readonly jobId: string;
  readonly type: string;
  readonly lane: string;
  readonly enqueuedAt: string;
  /** Hash of the payload (see `payloadHash`); stored so a reused key with another payload is caught. */
  readonly payloadHash?: string;
  /** Epoch seconds until which the key names this job (the retention window). */
  readonly keyUntil: number;
  /** Epoch ms after which an item still ENQUEUED counts as never sent (may be sent again). */
  readonly resendAfter: number;
  /** Start a new run if the job finished (SUCCEEDED, DEAD or CANCELLED). @default false */
  readonly rerun?: boolean;
  readonly tenant?: string;
  /** Refuse to resend or rerun under another payload. @default true */
  readonly checkPayload?: boolean;
  /** The group the job is a member of. */
  readonly group?: string;
}

export type KeyedEnqueueOutcome =
  /** A new job (no live item had this key). */
  | { readonly kind: 'created'; readonly previous?: JobRecord }
  /** The ENQUEUED item was never claimed past its resend time: the job is sent again. */
  | { readonly kind: 'resent'; readonly previous: JobRecord }
  /** `rerun` of a finished job: a new run under the same id. */
  | { readonly kind: 'rerun'; readonly previous: JobRecord }
  /**
   * This call's own item, written by an earlier try of the same request that the SDK retried after
   * its response was lost: the item is ours, so the job must be sent (what it replaced is unknown).
   */
  | { readonly kind: 'written'; readonly existing: JobRecord }
  /** The key already names a job (any state); nothing was written. */
  | { readonly kind: 'duplicate'; readonly existing: JobRecord };

export interface OutcomeInput {
  readonly jobId: string;
  /** The run's attempt number, when the writer knows it (kept in the history). */
  readonly attempt?: number;
  readonly type?: string;
  readonly lane: string;
  readonly enqueuedAt?: string;
  readonly status: Extract<JobStatus, 'SUCCEEDED' | 'FAILED' | 'DEAD' | 'CANCELLED'>;
  readonly startedAt?: string;
  readonly tenant?: string;
  readonly error?: unknown;
  readonly result?: unknown;
  /** The result is in S3 under this key (RESULT_OBJECTS): stored instead of `result`. */
  readonly resultRef?: string;
  readonly progress?: number | Record<string, unknown>;
}

/**
 * Statuses a claim may move to RUNNING (DEAD too, so a DLQ redrive re-runs the job). Not
 * CANCELLED, and nothing asked to stop (a run that failed, or whose consumer died, after a cancel
 * request): that one ends CANCELLED instead.
 */
const CLAIMABLE =
  'attribute_not_exists(#jobId) OR ((#status IN (:enqueued, :failed, :dead) OR (#status = :running AND #leaseUntil < :nowMs)) AND attribute_not_exists(#cancelRequestedAt))';
const NOT_SUCCEEDED = 'attribute_not_exists(#jobId) OR #status <> :succeeded';
const OWNED = '#leaseOwner = :owner AND #status = :running';
/** See LEDGER_ATTR.outcomeWriteId: an SDK retry of an applied outcome write is recognised as ours. */
const OUTCOME_WRITE_ID = A.outcomeWriteId;
const NOT_THIS_WRITE = `(attribute_not_exists(#${OUTCOME_WRITE_ID}) OR #${OUTCOME_WRITE_ID} <> :${OUTCOME_WRITE_ID})`;

export class Ledger {
  private readonly client: DynamoDBClient;
  readonly tableName: string;
  private readonly ttlSeconds: number;
  private readonly now: () => number;
  private readonly searchIndex: boolean;

  constructor(options: LedgerOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.ttlSeconds = options.ttlSeconds;
    this.now = options.now ?? Date.now;
    this.searchIndex = options.searchIndex ?? false;
  }

  /** Strict mode, before the handler: ENQUEUED | FAILED | DEAD | absent | expired RUNNING → RUNNING. */
  async claim(input: ClaimInput): Promise<ClaimOutcome> {
    if (input.fresh === true && input.debounceSeq === undefined) return this.claimNew(input);
    return this.claimAt(input, input.debounceSeq);
  }

  /** See `ClaimInput.fresh`: the whole RUNNING item in one PutItem, if no item exists. */
  private async claimNew(input: ClaimInput): Promise<ClaimOutcome> {
    const now = this.now();
    const item: Item = {
      [A.jobId]: { S: input.jobId },
      [A.status]: { S: 'RUNNING' },
      [A.leaseOwner]: { S: input.owner },
      [A.leaseUntil]: { N: String(now + input.leaseMs) },
      [A.attempts]: { N: '1' },
      [A.startedAt]: { S: iso(now) },
      [A.type]: { S: input.type },
      [A.lane]: { S: input.lane },
      [A.enqueuedAt]: { S: input.enqueuedAt },
      [A.updatedAt]: { S: iso(now) },
      [A.expiresAt]: { N: String(this.expiresAt(now)) },
      ...this.newItemExtras(input.jobId, 'RUNNING', now, input.group),
    };
    if (input.tenant !== undefined) item[A.tenant] = { S: input.tenant };
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(#jobId)',
          ExpressionAttributeNames: { '#jobId': A.jobId },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { kind: 'claimed', attempts: 1, takeover: false, historyLength: 1, created: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const record = decodeRecord(error.Item as Item | undefined);
      // What the UpdateItem's condition would refuse too (and answer the same way): no second call.
      // Anything else (ENQUEUED by a producer, FAILED, DEAD, an expired lease, a cancel request)
      // goes through the UpdateItem, whose condition decides atomically.
      if (
        record?.status === 'SUCCEEDED' ||
        record?.status === 'CANCELLED' ||
        (record?.status === 'RUNNING' && (record.leaseUntil ?? 0) >= now)
      ) {
        return this.refused(input, record, now, undefined);
      }
      return this.claimAt(input, input.debounceSeq);
    }
  }

  /**
   * `windowSeq`: the window's stored `debounceSeq` the claim requires (the envelope's number, or
   * a later one whose sends all failed, see below).
   */
  private async claimAt(input: ClaimInput, windowSeq: number | undefined): Promise<ClaimOutcome> {
    const now = this.now();
    const u = this.stamp(new Update(), now)
      .set(A.status, S('RUNNING'))
      .set(A.leaseOwner, S(input.owner))
      .set(A.leaseUntil, N(now + input.leaseMs))
      .increment(A.attempts, 1)
      .set(A.startedAt, S(iso(now)))
      // A job's type and lane never change: written where the item has none yet (the producer's
      // item has both), not rewritten by every claim.
      .setIfAbsent(A.type, S(input.type))
      .setIfAbsent(A.lane, S(input.lane))
      .set(A.tenant, S(input.tenant))
      .set(A.group, S(input.group))
      .setIfAbsent(A.enqueuedAt, S(input.enqueuedAt));
    this.transition(u, input.jobId, 'RUNNING', now);
    this.claimableNames(u, now);
    let condition = CLAIMABLE;
    if (input.debounceSeq !== undefined) {
      // Only the window's latest enqueue runs (an absent item: the producer's write is gone, run it).
      // Never a number whose send was marked failed: the stored number alone let such a message
      // run when it arrived anyway (a "failed" send may still reach SQS) with the payload of an
      // enqueue whose caller was told it failed, instead of the latest sent one.
      u.name(A.debounceSeq)
        .name(A.debounceFailed)
        .value(':debounceSeq', { N: String(windowSeq ?? input.debounceSeq) })
        .value(':envelopeSeq', { N: String(input.debounceSeq) });
      condition = `(${CLAIMABLE}) AND (attribute_not_exists(#jobId) OR #debounceSeq = :debounceSeq) AND NOT contains(#debounceFailed, :envelopeSeq)`;
    }
    try {
      const out = await this.client.send(
        new UpdateItemCommand(
          compactPlaceholders({
            TableName: this.tableName,
            Key: key(input.jobId),
            UpdateExpression: u.expression(),
            ConditionExpression: condition,
            ExpressionAttributeNames: u.names,
            ExpressionAttributeValues: u.values,
            // Only what the claim needs back (old status, attempts, history), not the whole item.
            ReturnValues: 'UPDATED_OLD',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      const old = out.Attributes;
      const historyLength = await this.trimHistory(input.jobId, (old?.[A.history]?.L?.length ?? 0) + 1);
      return {
        kind: 'claimed',
        attempts: Number(old?.[A.attempts]?.N ?? '0') + 1,
        takeover: old?.[A.status]?.S === 'RUNNING',
        historyLength,
      };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return this.refused(input, decodeRecord(error.Item as Item | undefined), now, windowSeq);
    }
  }

  /** A claim whose condition failed, answered from the item the failure returned. */
  private async refused(
    input: ClaimInput,
    record: JobRecord | undefined,
    now: number,
    windowSeq: number | undefined,
  ): Promise<ClaimOutcome> {
    if (record?.status === 'SUCCEEDED') return { kind: 'finished', record };
    if (record?.status === 'CANCELLED') return { kind: 'cancelled', record };
    if (
      record?.cancelRequestedAt !== undefined &&
      (record.status !== 'RUNNING' || (record.leaseUntil ?? 0) < now)
    ) {
      // Asked to stop while it ran, and that run is over (it failed, or its consumer died): it
      // ends here, unrun.
      await this.endCancelledRun(input.jobId, now);
      return { kind: 'cancelled', record };
    }
    if (input.debounceSeq !== undefined && record?.debounce !== undefined) {
      const latest = effectiveDebounceSeq(record.debounce);
      if (latest !== input.debounceSeq) return { kind: 'superseded', record };
      if (record.debounce.seq !== windowSeq) {
        // Every later enqueue of the window failed to send: this one is the window's latest.
        // Claim it under the stored number (the envelope's number stays checked against the
        // failed ones; passing the stored number as the envelope's would let a failed one run).
        return this.claimAt(input, record.debounce.seq);
      }
    }
    // Our own lease (the owner token is unique to this execution): an SDK retry of a claim that
    // was applied. That claim already counted the attempt; treating it as busy would defer the
    // job behind its own lease and burn an attempt.
    if (record?.status === 'RUNNING' && record.leaseOwner === input.owner) {
      return {
        kind: 'claimed',
        attempts: record.attempts,
        takeover: false,
        historyLength: record.history?.length,
      };
    }
    return { kind: 'busy', record, leaseRemainingMs: Math.max(0, (record?.leaseUntil ?? now) - now) };
  }

  /** Strict mode, after success: RUNNING (owned) → SUCCEEDED. False when the lease was lost. */
  async complete(input: {
    readonly jobId: string;
    readonly owner: string;
    readonly result?: unknown;
    /** The result is in S3 under this key (RESULT_OBJECTS): stored instead of `result`. */
    readonly resultRef?: string;
    readonly progress?: number | Record<string, unknown>;
    /** The run's attempt number (kept in the history). */
    readonly attempt?: number;
    /**
     * Entries in the history before this write (the claim's `historyLength`): the write then asks
     * for nothing back to decide whether to trim. Unknown: it reads the new history back.
     */
    readonly historyLength?: number;
    /**
     * The claim created the item (`ClaimOutcome.created`): no earlier run can have left a
     * `resultRef` on it, so the write does not remove one.
     */
    readonly created?: boolean;
  }): Promise<boolean> {
    const now = this.now();
    const u = this.stamp(new Update(), now)
      .set(A.status, S('SUCCEEDED'))
      // The same instant as updatedAt: its value is sent once.
      .setSameAs(A.finishedAt, A.updatedAt)
      .set(A.result, S(encodeResult(input.result)))
      .set(A.progress, input.progress === undefined ? undefined : encodeProgress(input.progress))
      .remove(A.leaseOwner, A.leaseUntil);
    this.transition(u, input.jobId, 'SUCCEEDED', now, input.attempt, input.historyLength !== undefined);
    if (input.resultRef !== undefined || input.created !== true) setResultRef(u, input.resultRef);
    return this.owned(input.jobId, input.owner, u, input.historyLength);
  }

  /** Strict mode, after failure: RUNNING (owned) → FAILED | DEAD. False when the lease was lost. */
  async fail(input: {
    readonly jobId: string;
    readonly owner: string;
    readonly status: 'FAILED' | 'DEAD' | 'CANCELLED';
    readonly error: unknown;
    /** The run's attempt number (kept in the history). */
    readonly attempt?: number;
  }): Promise<boolean> {
    const now = this.now();
    const u = this.stamp(new Update(), now)
      .set(A.status, S(input.status))
      .set(A.lastError, S(encodeError(input.error)))
      .set(A.finishedAt, input.status === 'FAILED' ? undefined : S(iso(now)))
      .remove(A.leaseOwner, A.leaseUntil);
    this.transition(u, input.jobId, input.status, now, input.attempt);
    return this.owned(input.jobId, input.owner, u);
  }

  /** Heartbeat: push the owned lease further. False when the lease was lost. */
  async extendLease(input: {
    readonly jobId: string;
    readonly owner: string;
    readonly leaseMs: number;
  }): Promise<boolean> {
    const now = this.now();
    const u = this.stamp(new Update(), now).set(A.leaseUntil, N(now + input.leaseMs));
    return this.owned(input.jobId, input.owner, u);
  }

  /**
   * A run that timed out but whose handler has not settled (it ignores its abort signal): the job
   * stays RUNNING under a fresh lease, with the timeout as `lastError`, so no retry overlaps the
   * abandoned run while it may still be going. With an owner only the lease owner may write;
   * without one (optimistic / none) the lease is unowned, as `progress` writes it.
   */
  async abandon(input: {
    readonly jobId: string;
    readonly owner?: string;
    readonly type: string;
    readonly lane: string;
    readonly leaseMs: number;
    readonly error: unknown;
  }): Promise<boolean> {
    const now = this.now();
    const u = this.stamp(new Update(), now)
      .set(A.leaseUntil, N(now + input.leaseMs))
      .set(A.lastError, S(encodeError(input.error)));
    return this.whileRunning(input, u);
  }

  /**
   * Progress. With an owner (strict) only the lease owner may write; without one (optimistic /
   * none) the item is marked RUNNING with an unowned lease so a strict claim elsewhere waits.
   */
  async progress(input: {
    readonly jobId: string;
    readonly owner?: string;
    readonly type: string;
    readonly lane: string;
    readonly leaseMs: number;
    readonly progress: number | Record<string, unknown>;
  }): Promise<boolean> {
    const now = this.now();
    const u = this.stamp(new Update(), now).set(A.progress, encodeProgress(input.progress));
    if (input.owner === undefined) {
      u.set(A.leaseUntil, N(now + input.leaseMs)).setIfAbsent(A.startedAt, S(iso(now)));
    }
    return this.whileRunning(input, u);
  }

  /**
   * A write during a run. With an owner (strict) only the lease owner may write; without one
   * (optimistic / none) the item is also marked RUNNING, unless it already SUCCEEDED.
   */
  private whileRunning(
    input: { readonly jobId: string; readonly owner?: string; readonly type: string; readonly lane: string },
    u: Update,
  ): Promise<boolean> {
    if (input.owner !== undefined) {
      return this.owned(input.jobId, input.owner, u);
    }
    u.set(A.status, S('RUNNING'))
      .set(A.type, S(input.type))
      .set(A.lane, S(input.lane))
      .name(A.jobId)
      .value(':succeeded', { S: 'SUCCEEDED' });
    return this.conditional(input.jobId, u, NOT_SUCCEEDED);
  }

  /**
   * One unowned write recording an outcome (optimistic and none modes, and dead-lettering before a
   * claim). Never overwrites SUCCEEDED, nor CANCELLED with FAILED or DEAD; with `respectLease` it also
   * leaves a live RUNNING lease alone.
   * True when written, also when only an SDK retry of this call saw the item (the attempt counted once).
   */
  async recordOutcome(
    input: OutcomeInput,
    options: {
      readonly respectLease?: boolean;
      /** False when the handler did not run (bad input, a consumer giving up): attempts stay. @default true */
      readonly countAttempt?: boolean;
    } = {},
  ): Promise<boolean> {
    const now = this.now();
    const u = this.stamp(new Update(), now)
      .set(A.status, S(input.status))
      .increment(A.attempts, options.countAttempt === false ? 0 : 1)
      .set(A.type, S(input.type))
      .set(A.lane, S(input.lane))
      .set(A.tenant, S(input.tenant))
      .setIfAbsent(A.enqueuedAt, S(input.enqueuedAt))
      .set(A.startedAt, S(input.startedAt))
      .set(A.finishedAt, input.status === 'FAILED' ? undefined : S(iso(now)))
      .set(A.lastError, input.error === undefined ? undefined : S(encodeError(input.error)))
      .set(A.result, S(encodeResult(input.result)))
      .set(A.progress, input.progress === undefined ? undefined : encodeProgress(input.progress))
      .remove(A.leaseOwner, A.leaseUntil);
    this.transition(u, input.jobId, input.status, now, input.attempt);
    if (input.status === 'SUCCEEDED') setResultRef(u, input.resultRef);
    // An SDK retry of this very request (same id) finds its own write: done, not refused.
    const writeId = randomUUID();
    u.set(OUTCOME_WRITE_ID, S(writeId));
    const ours = (old: Item | undefined) => old?.[OUTCOME_WRITE_ID]?.S === writeId;
    if (options.respectLease) {
      this.claimableNames(u, now);
      return this.conditional(input.jobId, u, `(${CLAIMABLE}) AND ${NOT_THIS_WRITE}`, ours);
    }
    u.name(A.jobId).value(':succeeded', { S: 'SUCCEEDED' });
    if (input.status === 'FAILED' || input.status === 'DEAD') {
      // Nor FAILED / DEAD over CANCELLED: an optimistic run cancelled while it ran (the cancel saw
      // no RUNNING item) that then failed overwrote CANCELLED, and its retry ran the job again.
      u.value(':cancelled', { S: 'CANCELLED' });
      return this.conditional(
        input.jobId,
        u,
        `(${NOT_SUCCEEDED}) AND (attribute_not_exists(#jobId) OR #status <> :cancelled) AND ${NOT_THIS_WRITE}`,
        ours,
      );
    }
    return this.conditional(input.jobId, u, `(${NOT_SUCCEEDED}) AND ${NOT_THIS_WRITE}`, ours);
  }

  /**
   * Producer, keyed jobs only: write the ENQUEUED item that makes the key name this job, or return
   * the job the key already names. The key names one business operation: within its retention
   * window (`keyUntil`, and the item's TTL) the existing job is returned whatever its state
   * (`duplicate`), never replaced by accident. The item is written (`kind` other than `duplicate`)
   * only when:
   * - no live item exists (absent, past its key window, or past its TTL but not yet deleted): `created`;
   * - the item is ENQUEUED and past `resendAfter`: the producer that wrote it died before (or
   *   while) sending, so the job may be sent again; the consumer's claim deduplicates by job id: `resent`;
   * - `rerun` is set and the job finished (SUCCEEDED or DEAD): an explicit new run: `rerun`.
   * The last two also require the same payload hash (unless `checkPayload` is false), so a reused
   * key with another payload is returned as `duplicate` for the caller to report.
   * An SDK retry of this write after it was applied fails its condition against our own item; that
   * is recognised (ENQUEUED with this call's `enqueuedAt` and payload hash) and returned as `written`.
   */
  async enqueue(input: KeyedEnqueueInput): Promise<KeyedEnqueueOutcome> {
    const now = this.now();
    const nowSeconds = Math.floor(now / 1000);
    const item: Item = {
      [A.jobId]: { S: input.jobId },
      [A.type]: { S: input.type },
      [A.lane]: { S: input.lane },
      [A.status]: { S: 'ENQUEUED' },
      [A.attempts]: { N: '0' },
      [A.enqueuedAt]: { S: input.enqueuedAt },
      [A.updatedAt]: { S: iso(now) },
      [A.expiresAt]: { N: String(Math.max(this.expiresAt(now), input.keyUntil)) },
      [A.keyUntil]: { N: String(input.keyUntil) },
      [A.resendAfter]: { N: String(input.resendAfter) },
    };
    if (input.payloadHash !== undefined) item[A.payloadHash] = { S: input.payloadHash };
    if (input.tenant !== undefined) item[A.tenant] = { S: input.tenant };
    Object.assign(item, this.newItemExtras(input.jobId, 'ENQUEUED', now, input.group));
    const samePayload =
      input.checkPayload === false || input.payloadHash === undefined
        ? ''
        : ' AND (attribute_not_exists(#payloadHash) OR #payloadHash = :payloadHash)';
    const conditions = [
      'attribute_not_exists(#jobId)',
      '#keyUntil < :nowS',
      '#expiresAt < :nowS',
      `(#status = :enqueued AND #resendAfter < :nowMs${samePayload})`,
      ...(input.rerun ? [`(#status IN (:succeeded, :dead, :cancelled)${samePayload})`] : []),
    ];
    const values: Item = {
      ':nowS': { N: String(nowSeconds) },
      ':nowMs': { N: String(now) },
      ':enqueued': { S: 'ENQUEUED' },
      ...(input.rerun
        ? { ':succeeded': { S: 'SUCCEEDED' }, ':dead': { S: 'DEAD' }, ':cancelled': { S: 'CANCELLED' } }
        : {}),
      ...(samePayload ? { ':payloadHash': { S: input.payloadHash as string } } : {}),
    };
    try {
      const out = await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: conditions.join(' OR '),
          ExpressionAttributeNames: {
            '#jobId': A.jobId,
            '#status': A.status,
            '#keyUntil': A.keyUntil,
            '#expiresAt': A.expiresAt,
            '#resendAfter': A.resendAfter,
            ...(samePayload ? { '#payloadHash': A.payloadHash } : {}),
          },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const previous = decodeRecord(out.Attributes);
      if (!previous || previous.status === undefined) return { kind: 'created' };
      const live =
        (previous.keyUntil ?? Number.POSITIVE_INFINITY) >= nowSeconds &&
        (previous.expiresAt ?? Number.POSITIVE_INFINITY) >= nowSeconds;
      if (!live) return { kind: 'created', previous };
      return { kind: previous.status === 'ENQUEUED' ? 'resent' : 'rerun', previous };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = decodeRecord(error.Item as Item | undefined) ?? { jobId: input.jobId, attempts: 0 };
      // Our own write, applied by an earlier try of this request (the SDK retried it after a lost
      // response): `enqueuedAt` is this call's ms timestamp. Another producer of the same key in
      // the same ms with the same payload also matches; that only sends the job twice, and the
      // consumer's claim runs it once.
      if (
        existing.status === 'ENQUEUED' &&
        existing.enqueuedAt === input.enqueuedAt &&
        existing.payloadHash === input.payloadHash
      ) {
        return { kind: 'written', existing };
      }
      return { kind: 'duplicate', existing };
    }
  }

  /**
   * Producer: undo `enqueue` when the send failed, so a retry with the same key is not swallowed.
   * True when the item is gone: deleted now, or already (an SDK retry of an applied delete fails
   * its condition on the missing item). False when the item is another enqueue's (another
   * `enqueuedAt`) or no longer ENQUEUED (a consumer claimed it): it is left in place.
   */
  async removeEnqueued(jobId: string, enqueuedAt: string): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: key(jobId),
          ConditionExpression: '#status = :enqueued AND #enqueuedAt = :enqueuedAt',
          ExpressionAttributeNames: { '#status': A.status, '#enqueuedAt': A.enqueuedAt },
          ExpressionAttributeValues: { ':enqueued': { S: 'ENQUEUED' }, ':enqueuedAt': { S: enqueuedAt } },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // No item: nothing holds the key any more, which is what the undo is for.
      return error.Item === undefined || Object.keys(error.Item).length === 0;
    }
  }

  /**
   * Cancel a job (one conditional UpdateItem; a running job takes a second). A job that is queued,
   * delayed, waiting for a retry, or not in the ledger yet (an unkeyed job before its first claim)
   * becomes CANCELLED: a later delivery is acknowledged without running. A RUNNING job gets
   * `cancelRequestedAt`; its consumer sees it at the next heartbeat, aborts the handler's signal and
   * records CANCELLED. SUCCEEDED, DEAD and CANCELLED jobs are left as they are (`finished`).
   */
  async cancel(jobId: string): Promise<CancelOutcome> {
    for (let round = 0; round < 3; round++) {
      const now = this.now();
      const u = this.stamp(new Update(), now)
        .set(A.status, S('CANCELLED'))
        .set(A.finishedAt, S(iso(now)))
        .setIfAbsent(A.cancelRequestedAt, S(iso(now)))
        .setIfAbsent(A.attempts, N(0))
        .remove(A.leaseOwner, A.leaseUntil)
        .name(A.jobId)
        .value(':enqueued', { S: 'ENQUEUED' })
        .value(':failed', { S: 'FAILED' });
      this.transition(u, jobId, 'CANCELLED', now);
      let current: JobRecord | undefined;
      try {
        const out = await this.client.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: key(jobId),
            UpdateExpression: u.expression(),
            ConditionExpression: 'attribute_not_exists(#jobId) OR #status IN (:enqueued, :failed)',
            ExpressionAttributeNames: u.names,
            ExpressionAttributeValues: u.values,
            ReturnValues: 'ALL_OLD',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        await this.trimHistory(jobId, (out.Attributes?.[A.history]?.L?.length ?? 0) + 1);
        return { kind: 'cancelled', previous: decodeRecord(out.Attributes) };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        current = decodeRecord(error.Item as Item | undefined);
      }
      if (current === undefined) continue;
      if (current.status !== 'RUNNING') return { kind: 'finished', record: current };
      const request = this.stamp(new Update(), now)
        .setIfAbsent(A.cancelRequestedAt, S(iso(now)))
        .value(':running', { S: 'RUNNING' });
      if (await this.conditional(jobId, request, '#status = :running')) {
        return { kind: 'cancelling', record: current };
      }
      // It finished (or failed, and waits for a retry) in between: look again.
    }
    const record = await this.get(jobId);
    if (record === undefined) throw new Error(`cancel(${jobId}): the ledger item kept changing; try again`);
    return { kind: 'finished', record };
  }

  /** A job asked to stop whose run is over (failed, or its lease ended): CANCELLED. */
  private endCancelledRun(jobId: string, now: number): Promise<boolean> {
    const u = this.transition(this.stamp(new Update(), now), jobId, 'CANCELLED', now)
      .set(A.status, S('CANCELLED'))
      .set(A.finishedAt, S(iso(now)))
      .remove(A.leaseOwner, A.leaseUntil)
      .name(A.leaseUntil)
      .value(':running', { S: 'RUNNING' })
      .value(':succeeded', { S: 'SUCCEEDED' })
      .value(':nowMs', { N: String(now) });
    return this.conditional(
      jobId,
      u,
      '#status <> :succeeded AND (#status <> :running OR #leaseUntil < :nowMs)',
    );
  }

  /**
   * Producer, debounced jobs (`keep: 'last'`): fold one enqueue into the window's job (one
   * UpdateItem): the item is created ENQUEUED on the window's first enqueue, and `debounceSeq`
   * counts the enqueues; the returned number goes into this enqueue's message. `closed` when the
   * window's job has already started.
   */
  async debounce(input: {
    readonly jobId: string;
    readonly type: string;
    readonly lane: string;
    readonly enqueuedAt: string;
    readonly tenant?: string;
    /** Epoch seconds the item must live at least until (the window's end plus the lane's retention). */
    readonly keepUntil: number;
  }): Promise<DebounceOutcome> {
    const now = this.now();
    const u = new Update()
      .set(A.updatedAt, S(iso(now)))
      .set(A.expiresAt, N(Math.max(this.expiresAt(now), input.keepUntil)))
      .set(A.type, S(input.type))
      .set(A.lane, S(input.lane))
      .set(A.tenant, S(input.tenant))
      .setIfAbsent(A.status, S('ENQUEUED'))
      .setIfAbsent(A.enqueuedAt, S(input.enqueuedAt))
      .setIfAbsent(A.attempts, N(0))
      .setIfAbsent(A.history, { L: [{ S: encodeHistoryEntry('ENQUEUED', now) }] })
      .increment(A.debounceSeq, 1)
      .name(A.jobId)
      .value(':enqueued', { S: 'ENQUEUED' });
    if (this.searchIndex) {
      const keys = searchKeys(input.jobId, 'ENQUEUED', now);
      u.setIfAbsent(A.statusKey, S(keys.statusKey)).setIfAbsent(A.statusAt, S(keys.statusAt));
    }
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key(input.jobId),
          UpdateExpression: u.expression(),
          ConditionExpression: 'attribute_not_exists(#jobId) OR #status = :enqueued',
          ExpressionAttributeNames: u.names,
          ExpressionAttributeValues: u.values,
          ReturnValues: 'UPDATED_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { kind: 'added', seq: Number(out.Attributes?.[A.debounceSeq]?.N ?? '1') };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return { kind: 'closed', record: decodeRecord(error.Item as Item | undefined) };
    }
  }

  /** Producer, debounced jobs: enqueue number `seq`'s message was not sent, so it cannot be the one that runs. */
  async debounceSendFailed(jobId: string, seq: number): Promise<void> {
    const u = new Update()
      .name(A.jobId)
      .name(A.debounceFailed)
      .value(':seqs', { NS: [String(seq)] });
    await this.client
      .send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key(jobId),
          UpdateExpression: 'ADD #debounceFailed :seqs',
          ConditionExpression: 'attribute_exists(#jobId)',
          ExpressionAttributeNames: u.names,
          ExpressionAttributeValues: u.values,
        }),
      )
      .catch((error: unknown) => {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      });
  }

  /**
   * The consumer's cancel check during a long run: true when the job was cancelled or asked to
   * stop. Eventually consistent and projected (0.5 read units): a request is seen a heartbeat later
   * at worst.
   */
  async cancelRequested(jobId: string): Promise<boolean> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: key(jobId),
        ProjectionExpression: '#status, #cancelRequestedAt',
        ExpressionAttributeNames: { '#status': A.status, '#cancelRequestedAt': A.cancelRequestedAt },
      }),
    );
    return out.Item?.[A.status]?.S === 'CANCELLED' || out.Item?.[A.cancelRequestedAt] !== undefined;
  }

  /** Strongly consistent read (1 read unit for an item under 4 KB). */
  async get(jobId: string): Promise<JobRecord | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: key(jobId), ConsistentRead: true }),
    );
    return decodeRecord(out.Item);
  }

  /** The history entry and search index keys of a status change (see history.ts). */
  private transition(
    u: Update,
    jobId: string,
    status: JobStatus,
    now: number,
    attempt?: number,
    historyExists?: boolean,
  ): Update {
    return recordTransition(u, {
      jobId,
      status,
      nowMs: now,
      attempt,
      searchIndex: this.searchIndex,
      historyExists,
    });
  }

  /**
   * What a new item carries besides the job's fields (a producer's ENQUEUED item, a fresh claim's
   * RUNNING one): its first history entry, the index keys, the group.
   */
  private newItemExtras(jobId: string, status: 'ENQUEUED' | 'RUNNING', now: number, group?: string): Item {
    const item: Item = { [A.history]: { L: [{ S: encodeHistoryEntry(status, now) }] } };
    if (this.searchIndex) {
      const keys = searchKeys(jobId, status, now);
      item[A.statusKey] = { S: keys.statusKey };
      item[A.statusAt] = { S: keys.statusAt };
    }
    if (group !== undefined) item[A.group] = { S: group };
    return item;
  }

  /**
   * Keeps the history short: once a write leaves more than HISTORY_TRIM_AT entries, drop the oldest
   * down to LEDGER_LIMITS.historyEntries. Conditional on the length seen, so a concurrent append
   * is never the one dropped; a trim that loses that race is left to the next write.
   */
  private async trimHistory(jobId: string, length: number): Promise<number | undefined> {
    if (length <= HISTORY_TRIM_AT) return length;
    const drop = length - LEDGER_LIMITS.historyEntries;
    const paths = Array.from({ length: drop }, (_, i) => `#history[${i}]`);
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key(jobId),
          UpdateExpression: `REMOVE ${paths.join(', ')}`,
          ConditionExpression: 'size(#history) = :length',
          ExpressionAttributeNames: { '#history': A.history },
          ExpressionAttributeValues: { ':length': { N: String(length) } },
        }),
      );
      return LEDGER_LIMITS.historyEntries;
    } catch {
      // Best effort, after a write that landed: a trim that lost a race (the condition) or failed
      // (throttling) is left to the next write's trim; failing here would report the landed write
      // as failed and have it retried. The length is then unknown.
      return undefined;
    }
  }

  private stamp(u: Update, now: number): Update {
    return u.set(A.updatedAt, S(iso(now))).set(A.expiresAt, N(this.expiresAt(now)));
  }

  private claimableNames(u: Update, now: number): void {
    u.name(A.jobId)
      .name(A.status)
      .name(A.leaseUntil)
      .name(A.cancelRequestedAt)
      .value(':enqueued', { S: 'ENQUEUED' })
      .value(':failed', { S: 'FAILED' })
      .value(':dead', { S: 'DEAD' })
      .value(':running', { S: 'RUNNING' })
      .value(':nowMs', { N: String(now) });
  }

  private expiresAt(now: number): number {
    return Math.floor(now / 1000) + this.ttlSeconds;
  }

  /**
   * The owner-only write (complete, fail, extendLease, and abandon / progress in strict mode):
   * applied only while the job is RUNNING under `owner`'s lease. False when the lease was lost.
   */
  private owned(jobId: string, owner: string, u: Update, historyLength?: number): Promise<boolean> {
    return this.conditional(
      jobId,
      u.value(':owner', { S: owner }).value(':running', { S: 'RUNNING' }),
      OWNED,
      undefined,
      historyLength,
    );
  }

  /**
   * One conditional UpdateItem: true when applied, false when its condition failed, unless
   * `applied` recognises the item the failure returns as this write's own (then true).
   * `historyLength`: the history's length before an append, when the caller knows it (the owner of
   * a lease does: nothing else appends while it holds it); otherwise the new history is read back.
   */
  private async conditional(
    jobId: string,
    u: Update,
    condition: string,
    applied?: (old: Item | undefined) => boolean,
    historyLength?: number,
  ): Promise<boolean> {
    for (const name of ['leaseOwner', 'status', 'jobId']) {
      if (condition.includes(`#${name}`)) u.name(name);
    }
    const appends = u.writes(A.history) && historyLength === undefined;
    try {
      const out = await this.client.send(
        new UpdateItemCommand(
          compactPlaceholders({
            TableName: this.tableName,
            Key: key(jobId),
            UpdateExpression: u.expression(),
            ConditionExpression: condition,
            ExpressionAttributeNames: u.names,
            ExpressionAttributeValues: u.values,
            ...(appends ? { ReturnValues: 'UPDATED_NEW' as const } : {}),
            ...(applied ? { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } : {}),
          }),
        ),
      );
      if (appends) await this.trimHistory(jobId, out.Attributes?.[A.history]?.L?.length ?? 0);
      else if (historyLength !== undefined && u.writes(A.history))
        await this.trimHistory(jobId, historyLength + 1);
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return applied?.(error.Item as Item) ?? false;
      throw error;
    }
  }
}

/**
 * The enqueue of a debounced window that runs: the latest whose message was sent (numbers whose
 * send failed are skipped). 0 when none was sent.
 */
export function effectiveDebounceSeq(state: {
  readonly seq: number;
  readonly failed?: readonly number[];
}): number {
  const failed = new Set(state.failed ?? []);
  let seq = state.seq;
  while (seq > 0 && failed.has(seq)) seq--;
  return seq;
}

function key(jobId: string): Item {
  return { [A.jobId]: { S: jobId } };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
