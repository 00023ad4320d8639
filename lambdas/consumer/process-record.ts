/**
 * One message through the consumer: envelope → registry → schema → ledger (per idempotency
 * mode) → handler → ledger outcome → ack, backoff-and-retry, or dead-letter.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSRecord } from 'aws-lambda';
import type { Ledger } from '../ledger/ledger';
import { parsePayload } from '../registry/define-job';
import type { AnyJob, JobRegistry } from '../registry/types';
import type { JobEnvelope } from '../shared/contract';
import { readEnvelope } from '../shared/envelope';
import { describeError, isPermanent, PermanentJobError, UnknownJobTypeError } from '../shared/errors';
import { fullJitterBackoffSeconds, type Random } from './backoff';
import type { ConsumerConfig } from './config';
import { type RunResult, runHandler } from './run-handler';
import type { SqsActions } from './sqs-actions';
import type { JobOutcome } from './telemetry';

export interface ProcessDeps {
  readonly registry: JobRegistry;
  readonly config: ConsumerConfig;
  readonly ledger: Ledger;
  readonly sqs: SqsActions;
  readonly logger: Logger;
  readonly random: Random;
  readonly now: () => number;
  readonly progressIntervalMs: number;
  readonly heartbeatIntervalMs?: number;
  /** Kept back from the Lambda's remaining time for the final ledger write and SQS calls. */
  readonly safetyMarginMs: number;
  /** Added to the handler deadline to form the lease. */
  readonly leaseGraceMs: number;
}

/** Outcome plus how long a FIFO group should wait behind it. */
export type RecordOutcome = JobOutcome & { readonly retryAfterSeconds?: number };

export async function processRecord(
  record: SQSRecord,
  context: Context,
  invokedAt: number,
  deps: ProcessDeps,
): Promise<RecordOutcome> {
  const attempt = Math.max(1, Number.parseInt(record.attributes.ApproximateReceiveCount, 10) || 1);
  const base = { messageId: record.messageId, attempt };
  const read = readEnvelope(record.body);
  if (!read.ok) {
    return deadLetterUnclaimed(record, read.error, { ...base, jobId: read.id, type: read.type }, deps);
  }
  const envelope = read.envelope;
  const ids = { ...base, jobId: envelope.id, type: envelope.type };
  const job = deps.registry.get(envelope.type);
  if (!job)
    return deadLetterUnclaimed(
      record,
      new UnknownJobTypeError(envelope.type, deps.registry.types),
      ids,
      deps,
    );
  let payload: unknown;
  try {
    payload = parsePayload(job, envelope.payload);
  } catch (error) {
    return deadLetterUnclaimed(record, error, ids, deps);
  }

  try {
    return await runJob({ record, context, invokedAt, attempt, envelope, job, payload, ids }, deps);
  } catch (error) {
    // Ledger or SQS unavailable (after the SDK's own retries): try again later, never drop it.
    const retryAfterSeconds = backoffFor(job, attempt, deps);
    await deps.sqs.setVisibility(record, retryAfterSeconds);
    return { ...ids, status: 'ERROR', itemFailure: true, error: describeError(error), retryAfterSeconds };
  }
}

interface JobRun {
  readonly record: SQSRecord;
  readonly context: Context;
  readonly invokedAt: number;
  readonly attempt: number;
  readonly envelope: JobEnvelope;
  readonly job: AnyJob;
  readonly payload: unknown;
  readonly ids: { messageId: string; attempt: number; jobId: string; type: string };
}

async function runJob(run: JobRun, deps: ProcessDeps): Promise<RecordOutcome> {
  const { record, envelope, job, ids } = run;
  const lane = deps.config.lane;
  const remaining = run.context.getRemainingTimeInMillis() - deps.safetyMarginMs;
  const timeoutMs = Math.min(
    job.timeoutSeconds === undefined ? remaining : job.timeoutSeconds * 1000,
    remaining,
  );
  if (timeoutMs < 1000) {
    // Not enough time left in this invocation: hand it back without running.
    await deps.sqs.setVisibility(record, 0);
    return {
      ...ids,
      status: 'DEFERRED',
      itemFailure: true,
      detail: { reason: 'no time left in this invocation' },
    };
  }
  const leaseMs = timeoutMs + deps.leaseGraceMs;

  let owner: string | undefined;
  let takeover = false;
  if (job.idempotency === 'strict') {
    owner = randomUUID();
    const claim = await deps.ledger.claim({
      jobId: envelope.id,
      type: job.type,
      lane,
      enqueuedAt: envelope.enqueuedAt,
      owner,
      leaseMs,
    });
    if (claim.kind === 'finished') return { ...ids, status: 'DUPLICATE', itemFailure: false };
    if (claim.kind === 'busy') return defer(record, claim.leaseRemainingMs, ids, deps);
    takeover = claim.takeover;
  } else if (job.idempotency === 'optimistic') {
    const current = await deps.ledger.get(envelope.id);
    if (current?.status === 'SUCCEEDED') return { ...ids, status: 'DUPLICATE', itemFailure: false };
    if (current?.status === 'RUNNING' && (current.leaseUntil ?? 0) > deps.now()) {
      return defer(record, (current.leaseUntil ?? 0) - deps.now(), ids, deps);
    }
  }

  const startedAt = new Date(deps.now()).toISOString();
  const result = await runHandler(
    {
      job,
      payload: run.payload,
      envelope,
      record,
      attempt: run.attempt,
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
    },
  );
  const detail = takeover ? { takeover: true } : undefined;
  if (result.ok) return succeed(run, result, owner, startedAt, detail, deps);
  return fail(run, result, owner, startedAt, deps);
}

async function succeed(
  run: JobRun,
  result: Extract<RunResult, { ok: true }>,
  owner: string | undefined,
  startedAt: string,
  detail: Record<string, unknown> | undefined,
  deps: ProcessDeps,
): Promise<RecordOutcome> {
  const { job, envelope, ids } = run;
  const progress = result.progress.pending ? result.progress.latest : undefined;
  let recorded = true;
  if (job.idempotency === 'strict' && owner !== undefined) {
    recorded = await deps.ledger.complete({ jobId: envelope.id, owner, result: result.result, progress });
  } else if (job.idempotency === 'optimistic' || run.attempt > 1 || result.progress.written) {
    // `none` writes only when an earlier failure or a progress write left a status to correct.
    recorded = await deps.ledger.recordOutcome({
      jobId: envelope.id,
      type: job.type,
      lane: deps.config.lane,
      enqueuedAt: envelope.enqueuedAt,
      status: 'SUCCEEDED',
      startedAt,
      result: result.result,
      progress,
    });
  }
  const note = recorded
    ? detail
    : { ...detail, ledger: 'not recorded: another execution owns or finished the job' };
  return { ...ids, status: 'SUCCEEDED', itemFailure: false, durationMs: result.durationMs, detail: note };
}

async function fail(
  run: JobRun,
  result: Extract<RunResult, { ok: false }>,
  owner: string | undefined,
  startedAt: string,
  deps: ProcessDeps,
): Promise<RecordOutcome> {
  const { job, envelope, ids, record, attempt } = run;
  const laneMax = deps.config.maxAttempts;
  const jobMax = Math.min(job.maxAttempts ?? laneMax, laneMax);
  const permanent = isPermanent(result.error);
  const exhausted = attempt >= jobMax;
  // The consumer dead-letters itself unless SQS will: SQS redrives only after the lane's max.
  const selfDeadLetter = permanent || (exhausted && jobMax < laneMax);
  const status = permanent || exhausted ? 'DEAD' : 'FAILED';
  const error = result.error;
  const base = { ...ids, durationMs: result.durationMs, error: describeError(error), failed: true };

  if (owner !== undefined) {
    await deps.ledger.fail({ jobId: envelope.id, owner, status, error });
  } else {
    await deps.ledger.recordOutcome({
      jobId: envelope.id,
      type: job.type,
      lane: deps.config.lane,
      enqueuedAt: envelope.enqueuedAt,
      status,
      startedAt,
      error,
      progress: result.progress.pending ? result.progress.latest : undefined,
    });
  }

  if (selfDeadLetter) {
    const reason = permanent
      ? error
      : new PermanentJobError(
          `Gave up after ${attempt} attempts (job maxAttempts ${jobMax}): ${describeError(error).message}`,
          {
            cause: error,
          },
        );
    return dlqOutcome(record, reason, attempt, base, deps);
  }
  if (exhausted) {
    // Last attempt the lane allows: the ledger says DEAD, SQS redrives it on the next receive.
    await deps.sqs.setVisibility(record, 0);
    return { ...base, status: 'DEAD', itemFailure: true, detail: { deadLetteredBy: 'sqs-redrive' } };
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
): Promise<RecordOutcome> {
  const base = { ...ids, error: describeError(error), failed: true };
  if (ids.jobId !== undefined) {
    try {
      await deps.ledger.recordOutcome(
        { jobId: ids.jobId, type: ids.type, lane: deps.config.lane, status: 'DEAD', error },
        { respectLease: true },
      );
    } catch (ledgerError) {
      // The DLQ message carries the reason; a missing ledger entry must not keep bad input on the lane.
      deps.logger.warn('ledger DEAD write failed', { jobId: ids.jobId, error: describeError(ledgerError) });
    }
  }
  return dlqOutcome(record, error, ids.attempt, base, deps);
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

async function defer(
  record: SQSRecord,
  leaseRemainingMs: number,
  ids: { messageId: string; attempt: number; jobId: string; type: string },
  deps: ProcessDeps,
): Promise<RecordOutcome> {
  // Look again just after the other execution's lease ends.
  const retryAfterSeconds = Math.max(1, Math.ceil(leaseRemainingMs / 1000) + 1);
  await deps.sqs.setVisibility(record, retryAfterSeconds);
  return {
    ...ids,
    status: 'DEFERRED',
    itemFailure: true,
    retryAfterSeconds,
    detail: { reason: 'running elsewhere under a live lease', retryAfterSeconds },
  };
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
