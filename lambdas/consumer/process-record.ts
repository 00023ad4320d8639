/**
 * One message through the consumer: envelope → registry → schema → ledger (per idempotency
 * mode) → handler → ledger outcome → ack, backoff-and-retry, or dead-letter.
 *
 * Attempts are runs of the handler, counted by the ledger's claim, never SQS receives. A
 * deferral that is not the job's fault (ledger throttling, another run's live lease, no time
 * left) uses no attempt; it backs off with jitter and uses only a receive. The queue's redrive
 * `maxReceiveCount` is a backstop with headroom: on the last receive it allows, the consumer
 * dead-letters the message itself, so a message in a DLQ is DEAD in the ledger with its reason.
 */
import { randomUUID } from 'node:crypto';
import type { Context, SQSRecord } from 'aws-lambda';
import { effectiveDebounceSeq } from '../ledger/ledger';
import { parsePayload } from '../registry/define-job';
import type { AnyJob } from '../registry/types';
import { fullJitterBackoffSeconds } from '../shared/backoff';
import { isGroupId } from '../shared/checks';
import type { JobEnvelope } from '../shared/contract';
import { readEnvelope } from '../shared/envelope';
import {
  AttemptsExhaustedError,
  describeError,
  isPermanent,
  ReceiveBudgetExhaustedError,
  UnknownJobTypeError,
} from '../shared/errors';
import { keepAbandonedLease, recordCompletion, sendCompletion, writeWithRetries } from './completion';
import type { ProcessDeps, RecordOutcome } from './deps';
import { enterLimits, limitDeferSeconds, limitKeys, type Refused } from './limit-gate';
import type { StoredResult } from './result-store';
import { type RunResult, runHandler } from './run-handler';
import { afterFinished, afterWrite } from './workflow';

export type { ProcessDeps, RecordOutcome } from './deps';

type Ids = {
  messageId: string;
  attempt: number;
  jobId: string;
  type: string;
  tenant?: string;
  group?: string;
};

export function receiveCountOf(record: SQSRecord): number {
  return Math.max(1, Number.parseInt(record.attributes.ApproximateReceiveCount, 10) || 1);
}

export async function processRecord(
  record: SQSRecord,
  context: Context,
  invokedAt: number,
  deps: ProcessDeps,
): Promise<RecordOutcome> {
  const receives = receiveCountOf(record);
  const base = { messageId: record.messageId, attempt: receives };
  const read = readEnvelope(record.body);
  if (!read.ok) {
    return deadLetterUnclaimed(record, read.error, { ...base, jobId: read.id, type: read.type }, deps);
  }
  const envelope = read.envelope;
  const member = { envelope };
  const ids: Ids = {
    ...base,
    jobId: envelope.id,
    type: envelope.type,
    ...(typeof envelope.tenant === 'string' ? { tenant: envelope.tenant } : {}),
    ...(typeof envelope.group?.id === 'string' ? { group: envelope.group.id } : {}),
  };
  if (envelope.completion) {
    try {
      return await recordCompletion(envelope, envelope.completion, ids, deps);
    } catch (error) {
      return defer(
        record,
        ids,
        `completion record not written: ${message(error)}`,
        deferSeconds(receives, deps),
        deps,
      );
    }
  }
  const job = deps.registry.get(envelope.type);
  if (!job)
    return deadLetterUnclaimed(
      record,
      new UnknownJobTypeError(envelope.type, deps.registry.types),
      ids,
      deps,
      member,
    );
  let payload: unknown;
  let keys: ReturnType<typeof limitKeys>;
  try {
    payload = parsePayload(job, envelope.payload);
    // A key function that throws or returns no usable key fails on every delivery: bad input.
    keys = limitKeys(job, payload);
  } catch (error) {
    return deadLetterUnclaimed(record, error, ids, deps, member);
  }
  // A producer without the job's definition (an untyped client, a cron schedule's fixed input)
  // sends no tenant: the definition's `tenant(payload)` still labels the run.
  const derived = envelope.tenant === undefined ? deriveTenant(job, payload, deps) : undefined;
  const run =
    derived === undefined
      ? { envelope, ids }
      : { envelope: { ...envelope, tenant: derived }, ids: { ...ids, tenant: derived } };

  try {
    return await runJob(
      { record, context, invokedAt, receives, envelope: run.envelope, job, payload, ids: run.ids, keys },
      deps,
    );
  } catch (error) {
    // Ledger or SQS unavailable (after the SDK's own retries): not the job's fault, no attempt used.
    return defer(
      record,
      ids,
      `ledger or SQS call failed: ${message(error)}`,
      backoffFor(job, receives, deps),
      deps,
    );
  }
}

interface JobRun {
  readonly record: SQSRecord;
  readonly context: Context;
  readonly invokedAt: number;
  readonly receives: number;
  readonly envelope: JobEnvelope;
  readonly job: AnyJob;
  readonly payload: unknown;
  readonly ids: Ids;
  readonly keys: ReturnType<typeof limitKeys>;
}

async function runJob(run: JobRun, deps: ProcessDeps): Promise<RecordOutcome> {
  const { record, job, ids } = run;
  const remaining = run.context.getRemainingTimeInMillis() - deps.safetyMarginMs;
  const timeoutMs = Math.min(
    job.timeoutSeconds === undefined ? remaining : job.timeoutSeconds * 1000,
    remaining,
  );
  if (timeoutMs < 1000) {
    // Not enough time left in this invocation: hand it back without running.
    return defer(record, ids, 'no time left in this invocation', jitterSeconds(2, deps), deps);
  }
  const leaseMs = timeoutMs + deps.leaseGraceMs;

  // Limits before the claim: a job over its limit is deferred without touching its ledger item,
  // so it uses no attempt.
  const gate = await enterLimits(job, run.keys, leaseMs, deps);
  if (!gate.admitted) return deferLimited(run, gate, deps);
  let keepSlot = false;
  try {
    const outcome = await claimAndRun(run, timeoutMs, leaseMs, deps);
    // A handler still running after its timeout keeps its slot until the slot's lease ends.
    keepSlot = outcome.abandoned === true;
    return outcome.outcome;
  } finally {
    if (!keepSlot) await gate.release();
  }
}

async function claimAndRun(
  run: JobRun,
  timeoutMs: number,
  leaseMs: number,
  deps: ProcessDeps,
): Promise<{ readonly outcome: RecordOutcome; readonly abandoned?: boolean }> {
  const { record, envelope, job, ids } = run;
  const lane = deps.config.lane;
  const done = (outcome: RecordOutcome | Promise<RecordOutcome>) =>
    Promise.resolve(outcome).then((o) => ({ outcome: o }));
  let owner: string | undefined;
  let takeover = false;
  let historyLength: number | undefined;
  let created: boolean | undefined;
  // `none` reads nothing before running: its handler sees the receive count as its attempt.
  let attempt = run.receives;
  if (job.idempotency === 'strict') {
    owner = randomUUID();
    const claim = await deps.ledger.claim({
      jobId: envelope.id,
      type: job.type,
      lane,
      enqueuedAt: envelope.enqueuedAt,
      owner,
      leaseMs,
      tenant: ids.tenant,
      debounceSeq: envelope.debounce?.seq,
      group: envelope.group?.id,
      // No producer wrote an item for an unkeyed job, and its first receive finds none: the claim
      // creates it with one PutItem (a redelivery of a finished job is still answered by that call).
      fresh:
        run.receives === 1 &&
        envelope.key === undefined &&
        envelope.debounce === undefined &&
        envelope.group === undefined &&
        envelope.chain === undefined,
    });
    if (claim.kind === 'finished') return done(duplicate(envelope, ids, deps));
    if (claim.kind === 'busy') return done(deferBehindLease(record, ids, claim.leaseRemainingMs, deps));
    if (claim.kind === 'cancelled') return done(cancelledUnrun(envelope, ids, claim.record, deps));
    if (claim.kind === 'superseded') return done(superseded(ids, claim.record));
    takeover = claim.takeover;
    attempt = claim.attempts;
    historyLength = claim.historyLength;
    created = claim.created;
  } else if (job.idempotency === 'optimistic') {
    const current = await deps.ledger.get(envelope.id);
    if (current?.status === 'SUCCEEDED') return done(duplicate(envelope, ids, deps));
    if (current?.status === 'CANCELLED') return done(cancelledUnrun(envelope, ids, current, deps));
    if (
      envelope.debounce !== undefined &&
      current?.debounce !== undefined &&
      effectiveDebounceSeq(current.debounce) !== envelope.debounce.seq
    ) {
      return done(superseded(ids, current));
    }
    if (current?.status === 'RUNNING' && (current.leaseUntil ?? 0) > deps.now()) {
      return done(deferBehindLease(record, ids, (current.leaseUntil ?? 0) - deps.now(), deps));
    }
    attempt = (current?.attempts ?? 0) + 1;
  }

  const startedAt = new Date(deps.now()).toISOString();
  const result = await runHandler(
    {
      job,
      payload: run.payload,
      envelope,
      record,
      attempt,
      lane,
      timeoutMs,
      owner,
      leaseMs,
      visibleUntil: run.invokedAt + deps.config.visibilityTimeoutSeconds * 1000,
    },
    {
      ledger: deps.ledger,
      sqs: deps.sqs,
      logger: deps.logger,
      now: deps.now,
      visibilityTimeoutSeconds: deps.config.visibilityTimeoutSeconds,
      progressIntervalMs: deps.progressIntervalMs,
      heartbeatIntervalMs: deps.heartbeatIntervalMs,
      settleGraceMs: deps.settleGraceMs,
      cancelCheckIntervalMs:
        job.idempotency === 'none'
          ? undefined
          : (deps.cancelCheckIntervalMs ?? (job.heartbeatSeconds ?? DEFAULT_HEARTBEAT_SECONDS) * 1000),
    },
  );
  const ran = {
    ...run,
    ids: { ...ids, attempt },
    attempt,
    owner,
    startedAt,
    leaseMs,
    historyLength,
    created,
  };
  if (result.ok) return done(succeed(ran, result, takeover ? { takeover: true } : undefined, deps));
  if (result.cancelled && !result.abandoned) return done(endCancelled(ran, result, deps));
  return { outcome: await fail(ran, result, deps), abandoned: result.abandoned !== undefined };
}

/** The definition's tenant for a payload, if it gives a valid one (a label: never fails the job). */
function deriveTenant(job: AnyJob, payload: unknown, deps: ProcessDeps): string | undefined {
  if (job.tenant === undefined) return undefined;
  try {
    const tenant = job.tenant(payload);
    if (tenant === undefined || isGroupId(tenant)) return tenant;
    deps.logger.warn('tenant(payload) gave no valid tenant; running without one', { type: job.type });
  } catch (error) {
    deps.logger.warn('tenant(payload) threw; running without a tenant', {
      type: job.type,
      error: describeError(error),
    });
  }
  return undefined;
}

/** A job's default `heartbeatSeconds`: how often a long run checks whether it was cancelled. */
export const DEFAULT_HEARTBEAT_SECONDS = 10;

/**
 * A delivery of a job that already SUCCEEDED: acknowledged without running. A group member or
 * chain step still settles (the consumer that finished it may have died before it did).
 */
async function duplicate(envelope: JobEnvelope, ids: Ids, deps: ProcessDeps): Promise<RecordOutcome> {
  await afterFinished(envelope, 'SUCCEEDED', deps);
  return { ...ids, status: 'DUPLICATE', itemFailure: false };
}

/** A delivery of a CANCELLED job (or one asked to stop whose run is over): acknowledged unrun. */
async function cancelledUnrun(
  envelope: JobEnvelope,
  ids: Ids,
  record: { readonly cancelRequestedAt?: string },
  deps: ProcessDeps,
): Promise<RecordOutcome> {
  // A cancelled member or chain step still counts in its group / stops its chain (idempotent), by
  // the status the ledger holds (the claim's write that ended the run may not have landed).
  await afterWrite(envelope, 'CANCELLED', false, deps);
  return {
    ...ids,
    status: 'CANCELLED',
    itemFailure: false,
    detail: { ran: false, cancelRequestedAt: record.cancelRequestedAt },
  };
}

/** A debounced enqueue that a later one of its window replaced: acknowledged unrun. */
function superseded(ids: Ids, record: { readonly debounce?: { readonly seq: number } }): RecordOutcome {
  return { ...ids, status: 'SUPERSEDED', itemFailure: false, detail: { latestSeq: record.debounce?.seq } };
}

/** The run was cancelled and its handler stopped: CANCELLED, neither retried nor dead-lettered. */
async function endCancelled(
  run: Ran,
  result: Extract<RunResult, { ok: false }>,
  deps: ProcessDeps,
): Promise<RecordOutcome> {
  const { job, envelope, owner } = run;
  const error = result.error;
  let recorded: boolean;
  const member = { attempt: run.attempt };
  if (owner !== undefined) {
    recorded = await deps.ledger.fail({ jobId: envelope.id, owner, status: 'CANCELLED', error, ...member });
  } else {
    recorded = await deps.ledger.recordOutcome({
      jobId: envelope.id,
      type: job.type,
      lane: deps.config.lane,
      enqueuedAt: envelope.enqueuedAt,
      status: 'CANCELLED',
      startedAt: run.startedAt,
      tenant: run.ids.tenant,
      error,
      progress: result.progress.pending ? result.progress.latest : undefined,
      ...member,
    });
  }
  await afterWrite(envelope, 'CANCELLED', recorded, deps);
  return {
    ...run.ids,
    status: 'CANCELLED',
    itemFailure: false,
    durationMs: result.durationMs,
    detail: { ran: true, ...(recorded ? {} : { ledger: 'not recorded: another execution owns the job' }) },
  };
}

/**
 * Over a rate or concurrency limit: come back when it frees up (with jitter), using no attempt.
 * Each deferral uses a receive, so on a standard lane a job whose next receive would be the
 * redrive backstop's last is sent again as a fresh message instead (its receive count starts
 * over); on a FIFO lane, where a new message would lose its place in the group, it is deferred
 * like any other and given up at the backstop.
 */
async function deferLimited(run: JobRun, refused: Refused, deps: ProcessDeps): Promise<RecordOutcome> {
  const { record, ids, receives } = run;
  const retryAfterSeconds = limitDeferSeconds(refused.waitMs, receives, deps.random);
  const detail = { reason: refused.reason, limit: refused.limit, retryAfterSeconds };
  if (!deps.config.fifo && receives >= deps.config.maxReceiveCount - 1) {
    try {
      await deps.sqs.requeue(record, retryAfterSeconds, run.envelope.tenant);
      return { ...ids, status: 'LIMITED', itemFailure: false, detail: { ...detail, requeued: true } };
    } catch (error) {
      deps.logger.warn('requeue of a limited job failed; deferring the message instead', {
        jobId: ids.jobId,
        error: describeError(error),
      });
    }
  }
  if (receives >= deps.config.maxReceiveCount) return giveUp(record, ids, refused.reason, deps);
  await deps.sqs.setVisibility(record, retryAfterSeconds);
  return { ...ids, status: 'LIMITED', itemFailure: true, retryAfterSeconds, detail };
}

type Ran = JobRun & {
  readonly attempt: number;
  readonly owner?: string;
  readonly startedAt: string;
  readonly leaseMs: number;
  /** The history's length after the claim, when it told (strict): the SUCCEEDED write reads nothing back. */
  readonly historyLength?: number;
  /** The claim created the ledger item (strict, first delivery of an unkeyed job). */
  readonly created?: boolean;
};

async function succeed(
  run: Ran,
  result: Extract<RunResult, { ok: true }>,
  detail: Record<string, unknown> | undefined,
  deps: ProcessDeps,
): Promise<RecordOutcome> {
  const { job, envelope, ids, owner } = run;
  const progress = result.progress.pending ? result.progress.latest : undefined;
  // Set below, before the first write: the result inline, or the key of its S3 copy.
  let stored: StoredResult = { result: result.result };
  let write: (() => Promise<boolean>) | undefined;
  const member = { attempt: run.attempt };
  if (job.idempotency === 'strict' && owner !== undefined) {
    write = () =>
      deps.ledger.complete({
        jobId: envelope.id,
        owner,
        ...stored,
        progress,
        ...member,
        historyLength: run.historyLength,
        created: run.created,
      });
  } else if (
    job.idempotency === 'optimistic' ||
    run.receives > 1 ||
    result.progress.written ||
    envelope.group !== undefined
  ) {
    // `none` writes only when an earlier failure or a progress write left a status to correct, or
    // when the job is a group member (its group counts it from the ledger's status).
    write = () =>
      deps.ledger.recordOutcome({
        jobId: envelope.id,
        type: job.type,
        lane: deps.config.lane,
        enqueuedAt: envelope.enqueuedAt,
        status: 'SUCCEEDED',
        startedAt: run.startedAt,
        ...stored,
        progress,
        ...member,
      });
  }
  let recorded = true;
  let handedOver = false;
  let note: Record<string, unknown> | undefined = detail;
  if (write) {
    // A result over the ledger's limit goes to S3 first (never fails the job): see result-store.ts.
    if (deps.results) stored = await deps.results.store(envelope.id, result.result);
    try {
      // The job must not run again because its SUCCEEDED write was throttled: retry it, then
      // hand it to the next consumer as a completion record.
      recorded = await writeWithRetries(write, run.context, deps);
    } catch (error) {
      await sendCompletion(run.record, envelope, { owner, ...stored, startedAt: run.startedAt }, deps);
      note = { ...detail, ledger: `SUCCEEDED write failed (${message(error)}); sent a completion record` };
      handedOver = true;
    }
  }
  if (!recorded) note = { ...detail, ledger: 'not recorded: another execution owns or finished the job' };
  // The completion record's consumer settles the group once it has written the status.
  if (recorded && !handedOver) {
    await afterWrite(envelope, 'SUCCEEDED', recorded, deps, { result: result.result, resultKnown: true });
  }
  return { ...ids, status: 'SUCCEEDED', itemFailure: false, durationMs: result.durationMs, detail: note };
}

async function fail(
  run: Ran,
  result: Extract<RunResult, { ok: false }>,
  deps: ProcessDeps,
): Promise<RecordOutcome> {
  const { job, envelope, record, owner } = run;
  const laneMax = deps.config.maxAttempts;
  const jobMax = Math.min(job.maxAttempts ?? laneMax, laneMax);
  // `none` learns the run count only when it fails: one read on the failure path.
  const attempt =
    job.idempotency === 'none' ? ((await deps.ledger.get(envelope.id))?.attempts ?? 0) + 1 : run.attempt;
  const ids = { ...run.ids, attempt };
  const error = result.error;
  const permanent = isPermanent(error);
  const exhausted = attempt >= jobMax;
  const lastReceive = run.receives >= deps.config.maxReceiveCount;
  const base = { ...ids, durationMs: result.durationMs, error: describeError(error), failed: true };
  const reason = permanent
    ? error
    : exhausted
      ? new AttemptsExhaustedError(attempt, jobMax, describeError(error), { cause: error })
      : lastReceive
        ? new ReceiveBudgetExhaustedError(run.receives, attempt, message(error))
        : undefined;

  // Timed out and still running: this environment must not run anything else next to it. The
  // environment is told at once; what it waits for is the handler settling and (below) its late
  // outcome being written, so it does not end the process between the two.
  let lateOutcome: (written: Promise<unknown>) => void = () => {};
  if (result.abandoned) {
    const written = new Promise<Promise<unknown>>((resolve) => {
      lateOutcome = resolve;
    });
    deps.onAbandoned?.(result.abandoned.then(() => written).then((write) => write));
  }
  let finalWritten = false;
  if (reason === undefined && result.abandoned) {
    // Keep the job RUNNING under its lease until the handler settles, so the retry cannot overlap it.
    const jobId = envelope.id;
    const lane = deps.config.lane;
    try {
      await deps.ledger.abandon({ jobId, owner, type: job.type, lane, leaseMs: run.leaseMs, error });
    } catch (abandonError) {
      lateOutcome(Promise.resolve());
      throw abandonError;
    }
    lateOutcome(
      keepAbandonedLease(
        result.abandoned,
        {
          envelope,
          jobId,
          owner,
          type: job.type,
          startedAt: run.startedAt,
          leaseMs: run.leaseMs,
          enqueuedAt: envelope.enqueuedAt,
        },
        deps,
      ),
    );
  } else if (owner !== undefined) {
    finalWritten = await deps.ledger.fail({
      jobId: envelope.id,
      owner,
      status: reason ? 'DEAD' : 'FAILED',
      error: reason ?? error,
      attempt,
    });
  } else {
    finalWritten = await deps.ledger.recordOutcome({
      jobId: envelope.id,
      type: job.type,
      lane: deps.config.lane,
      enqueuedAt: envelope.enqueuedAt,
      status: reason ? 'DEAD' : 'FAILED',
      startedAt: run.startedAt,
      error: reason ?? error,
      progress: result.progress.pending ? result.progress.latest : undefined,
      attempt,
    });
  }

  lateOutcome(Promise.resolve());
  if (reason !== undefined) {
    const outcome = await dlqOutcome(record, reason, attempt, base, deps);
    await afterWrite(envelope, 'DEAD', finalWritten, deps, {
      error: base.error ? `${base.error.type}: ${base.error.message}` : undefined,
    });
    return outcome;
  }
  const retryAfterSeconds = backoffFor(job, attempt, deps);
  await deps.sqs.setVisibility(record, retryAfterSeconds);
  return { ...base, status: 'RETRY', itemFailure: true, retryAfterSeconds, detail: { retryAfterSeconds } };
}

/** Bad input (before any claim): ledger DEAD if the id is known, then straight to the DLQ. */
async function deadLetterUnclaimed(
  record: SQSRecord,
  error: unknown,
  ids: { messageId: string; attempt: number; jobId?: string; type?: string },
  deps: ProcessDeps,
  member?: { readonly envelope: JobEnvelope },
): Promise<RecordOutcome> {
  const base = { ...ids, error: describeError(error), failed: true };
  let recorded = false;
  if (ids.jobId !== undefined) {
    try {
      recorded = await deps.ledger.recordOutcome(
        {
          jobId: ids.jobId,
          type: ids.type,
          lane: deps.config.lane,
          status: 'DEAD',
          error,
        },
        { respectLease: true, countAttempt: false },
      );
    } catch (ledgerError) {
      // The DLQ message carries the reason; a missing ledger entry must not keep bad input on the lane.
      deps.logger.warn('ledger DEAD write failed', { jobId: ids.jobId, error: describeError(ledgerError) });
    }
  }
  const outcome = await dlqOutcome(record, error, ids.attempt, base, deps);
  if (member) {
    await afterWrite(member.envelope, 'DEAD', recorded, deps, {
      error: `${base.error.type}: ${base.error.message}`,
    });
  }
  return outcome;
}

async function dlqOutcome(
  record: SQSRecord,
  reason: unknown,
  attempt: number,
  base: Omit<RecordOutcome, 'status' | 'itemFailure'>,
  deps: ProcessDeps,
): Promise<RecordOutcome> {
  const sent = await deps.sqs.deadLetter(record, reason, attempt, new Date(deps.now()));
  if (sent) return { ...base, status: 'DEAD', itemFailure: false, detail: { deadLetteredBy: 'consumer' } };
  return { ...base, status: 'DLQ_SEND_FAILED', itemFailure: true };
}

/** Look again just after the other execution's lease ends (with jitter, so waiters spread out). */
function deferBehindLease(
  record: SQSRecord,
  ids: Ids,
  leaseRemainingMs: number,
  deps: ProcessDeps,
): Promise<RecordOutcome> {
  const retryAfterSeconds = Math.ceil(leaseRemainingMs / 1000) + 1 + jitterSeconds(2, deps);
  return defer(record, ids, 'running elsewhere under a live lease', retryAfterSeconds, deps);
}

/**
 * A deferral that is not the job's fault: no attempt used, the message comes back after
 * `retryAfterSeconds`. On the last receive the queue allows, give up here instead, so the ledger
 * says DEAD with the reason rather than SQS moving the message silently.
 */
async function defer(
  record: SQSRecord,
  ids: Ids,
  reason: string,
  retryAfterSeconds: number,
  deps: ProcessDeps,
): Promise<RecordOutcome> {
  const receives = receiveCountOf(record);
  if (receives >= deps.config.maxReceiveCount) return giveUp(record, ids, reason, deps);
  await deps.sqs.setVisibility(record, retryAfterSeconds);
  return {
    ...ids,
    status: 'DEFERRED',
    itemFailure: true,
    retryAfterSeconds,
    detail: { reason, retryAfterSeconds },
  };
}

/**
 * A FIFO message held back behind a failed one of its group: no attempt used. On its last receive
 * it is given up like any deferral, so the ledger says why it is in the DLQ.
 */
export async function deferFollower(
  record: SQSRecord,
  blockedBy: string,
  retryAfterSeconds: number | undefined,
  deps: ProcessDeps,
): Promise<RecordOutcome> {
  const receives = receiveCountOf(record);
  const detail = { blockedBy };
  if (receives < deps.config.maxReceiveCount) {
    return {
      messageId: record.messageId,
      attempt: receives,
      status: 'FIFO_BLOCKED',
      itemFailure: true,
      retryAfterSeconds,
      detail,
    };
  }
  const read = readEnvelope(record.body);
  if (!read.ok) {
    return deadLetterUnclaimed(
      record,
      read.error,
      { messageId: record.messageId, attempt: receives, jobId: read.id, type: read.type },
      deps,
    );
  }
  const ids = {
    messageId: record.messageId,
    attempt: receives,
    jobId: read.envelope.id,
    type: read.envelope.type,
    // Like every other outcome of a readable envelope: the tenant goes into the log line (and the
    // per-tenant metrics), which it was missing for a follower given up at its last receive.
    ...(typeof read.envelope.tenant === 'string' ? { tenant: read.envelope.tenant } : {}),
  };
  return giveUp(record, ids, `held behind message ${blockedBy} of its FIFO group`, deps);
}

async function giveUp(
  record: SQSRecord,
  ids: Ids,
  lastReason: string,
  deps: ProcessDeps,
): Promise<RecordOutcome> {
  const receives = receiveCountOf(record);
  let attempts: number | undefined;
  let ledgerNote: string;
  const read = readEnvelope(record.body);
  const envelope = read.ok ? read.envelope : undefined;
  let written = false;
  try {
    const current = await deps.ledger.get(ids.jobId);
    attempts = current?.attempts ?? 0;
    if (current?.status === 'SUCCEEDED') {
      // Its group or chain still hears of it; a failure here must not dead-letter a finished job.
      if (envelope) {
        await afterFinished(envelope, 'SUCCEEDED', deps).catch((error: unknown) =>
          deps.logger.warn('group or chain step of a finished job failed', {
            jobId: ids.jobId,
            error: describeError(error),
          }),
        );
      }
      return { ...ids, status: 'DUPLICATE', itemFailure: false };
    }
    const error = new ReceiveBudgetExhaustedError(receives, attempts, lastReason);
    written = await deps.ledger.recordOutcome(
      {
        jobId: ids.jobId,
        type: ids.type,
        lane: deps.config.lane,
        status: 'DEAD',
        error,
      },
      { respectLease: true, countAttempt: false },
    );
    ledgerNote = written ? 'DEAD' : 'not marked DEAD: another execution holds the job under a live lease';
  } catch (ledgerError) {
    ledgerNote = `not marked DEAD: ${message(ledgerError)}`;
  }
  const reason = new ReceiveBudgetExhaustedError(
    receives,
    attempts ?? 0,
    `${lastReason} (ledger: ${ledgerNote})`,
  );
  const outcome = await dlqOutcome(
    record,
    reason,
    attempts ?? 0,
    { ...ids, error: describeError(reason) },
    deps,
  );
  if (envelope) await afterWrite(envelope, 'DEAD', written, deps, { error: ledgerNote });
  return outcome;
}

function backoffFor(job: AnyJob, attempt: number, deps: ProcessDeps): number {
  return fullJitterBackoffSeconds(
    attempt,
    {
      baseSeconds: job.backoff?.baseSeconds ?? deps.config.backoff.baseSeconds,
      capSeconds: job.backoff?.capSeconds ?? deps.config.backoff.capSeconds,
    },
    deps.random,
  );
}

/** Backoff for a deferral with no job at hand (completion records): the lane's settings. */
function deferSeconds(receives: number, deps: ProcessDeps): number {
  return fullJitterBackoffSeconds(receives, deps.config.backoff, deps.random);
}

function jitterSeconds(max: number, deps: ProcessDeps): number {
  return Math.floor(deps.random() * (max + 1));
}

function message(error: unknown): string {
  const { type, message: text } = describeError(error);
  return `${type}: ${text}`;
}
