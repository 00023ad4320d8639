/**
 * The end of a run, made to hold under faults:
 * - the final SUCCEEDED write is retried, and if it still fails the run is handed to the next
 *   consumer as a completion record (a message on the lane), so the job does not run again;
 * - a handler that timed out and ignores its abort signal keeps its lease until it settles, and
 *   its late outcome is written then (retried, the lease still kept), so its retry never overlaps it.
 */
import type { Context, SQSRecord } from 'aws-lambda';
import { encodeResult } from '../ledger/codec';
import type { JobCompletion, JobEnvelope } from '../shared/contract';
import { describeError } from '../shared/errors';
import type { ProcessDeps, RecordOutcome } from './deps';
import { afterWrite } from './workflow';

/** Retries of a final ledger write that threw (throttling, a network error), with jittered backoff. */
const WRITE_RETRIES = 4;
const WRITE_RETRY_BASE_MS = 100;
/**
 * Retries of an abandoned run's late outcome write, with jittered backoff (at most about 3 s in
 * all). No invocation waits for it, so it is bounded by count rather than by remaining time.
 */
const LATE_WRITE_RETRIES = 4;
const LATE_WRITE_RETRY_BASE_MS = 200;

/**
 * Runs `write`, retrying thrown errors while the invocation has time for it; rethrows the last
 * error. A `false` (a conditional check that failed) is an answer, not an error: returned as is.
 */
export async function writeWithRetries(
  write: () => Promise<boolean>,
  context: Context,
  deps: ProcessDeps,
): Promise<boolean> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let retry = 0; ; retry++) {
    try {
      return await write();
    } catch (error) {
      const delayMs = Math.floor(deps.random() * WRITE_RETRY_BASE_MS * 2 ** retry);
      // Keep a second for the completion record if this fails for good.
      if (retry >= WRITE_RETRIES || context.getRemainingTimeInMillis() - delayMs < 1000) throw error;
      await sleep(delayMs);
    }
  }
}

/** Hands a finished run whose ledger write failed to the next consumer. Throws if SQS fails too. */
export async function sendCompletion(
  record: SQSRecord,
  envelope: JobEnvelope,
  completion: JobCompletion,
  deps: ProcessDeps,
): Promise<void> {
  const result = encodeResult(completion.result);
  const body: JobEnvelope = {
    ...envelope,
    // The payload is not needed to record an outcome; keep the record small.
    payload: null,
    // A result stored in S3 travels as its key (`resultRef`), never as the result itself.
    completion: { ...completion, result: result === undefined ? undefined : JSON.parse(result) },
  };
  await deps.sqs.sendCompletion(record, JSON.stringify(body));
}

/** A completion record: write the owed SUCCEEDED status (owner-conditional in strict mode). */
export async function recordCompletion(
  envelope: JobEnvelope,
  completion: JobCompletion,
  ids: Omit<RecordOutcome, 'status' | 'itemFailure'>,
  deps: ProcessDeps,
): Promise<RecordOutcome> {
  const recorded =
    completion.owner !== undefined
      ? await deps.ledger.complete({
          jobId: envelope.id,
          owner: completion.owner,
          result: completion.result,
          resultRef: refOf(completion),
        })
      : await deps.ledger.recordOutcome({
          jobId: envelope.id,
          type: envelope.type,
          lane: deps.config.lane,
          enqueuedAt: envelope.enqueuedAt,
          status: 'SUCCEEDED',
          startedAt: completion.startedAt,
          result: completion.result,
          resultRef: refOf(completion),
        });
  // A result kept in S3 (the record carries its key) is not at hand: the chain reads the ledger.
  const stored = refOf(completion) !== undefined;
  await afterWrite(
    envelope,
    'SUCCEEDED',
    recorded,
    deps,
    stored ? {} : { result: completion.result, resultKnown: true },
  );
  return {
    ...ids,
    status: 'COMPLETION_RECORDED',
    itemFailure: false,
    detail: { recorded: recorded ? 'SUCCEEDED' : 'not recorded: another execution owns or finished the job' },
  };
}

/** The completion record's S3 result key, if it carries a well-formed one (it is read from a message). */
function refOf(completion: JobCompletion): string | undefined {
  return typeof completion.resultRef === 'string' && completion.resultRef !== ''
    ? completion.resultRef
    : undefined;
}

export interface AbandonedRun {
  /** A group member's or chain step's envelope: its late outcome settles the group or moves the chain. */
  readonly envelope?: JobEnvelope;
  readonly jobId: string;
  readonly owner?: string;
  readonly type: string;
  readonly enqueuedAt: string;
  readonly startedAt: string;
  readonly leaseMs: number;
}

/**
 * A timed-out handler still running: extend its lease (strict) until it settles, then write its
 * late outcome — SUCCEEDED if it finished (its retry is then acknowledged as a duplicate), FAILED
 * if it failed (the lease is released for the retry). A write that throws (throttling, a network
 * error) is retried a few times with backoff while the lease is still extended; only once it is
 * written, answered `false` (the lease is no longer ours) or given up (logged) does the extension
 * stop, so the lease does not lapse under a run that finished and let its retry run it again.
 * Returns a promise that settles once the late outcome is written or given up (it never rejects).
 */
export function keepAbandonedLease(
  settled: Promise<
    { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly error: unknown }
  >,
  run: AbandonedRun,
  deps: ProcessDeps,
): Promise<void> {
  const { jobId, owner } = run;
  const warn = (what: string) => (error: unknown) =>
    deps.logger.warn(`abandoned run: ${what} failed`, { jobId, error: describeError(error) });
  const timer =
    owner === undefined
      ? undefined
      : setInterval(
          () =>
            void deps.ledger
              .extendLease({ jobId, owner, leaseMs: run.leaseMs })
              .catch(warn('lease extension')),
          Math.max(1000, Math.floor(run.leaseMs / 3)),
        );
  timer?.unref?.();
  return settled.then(async (outcome) => {
    try {
      if (outcome.ok) {
        const stored = deps.results
          ? await deps.results.store(jobId, outcome.result)
          : { result: outcome.result };
        const write = () =>
          owner !== undefined
            ? deps.ledger.complete({ jobId, owner, ...stored })
            : deps.ledger.recordOutcome({
                jobId,
                type: run.type,
                lane: deps.config.lane,
                enqueuedAt: run.enqueuedAt,
                status: 'SUCCEEDED',
                startedAt: run.startedAt,
                ...stored,
              });
        const written = await lateWrite(write, deps).catch(warn('late SUCCEEDED write'));
        if (written !== undefined && run.envelope) {
          await afterWrite(run.envelope, 'SUCCEEDED', written === true, deps, {
            result: outcome.result,
            resultKnown: true,
          }).catch(warn('group or chain step after the late SUCCEEDED write'));
        }
      } else if (owner !== undefined) {
        const write = () => deps.ledger.fail({ jobId, owner, status: 'FAILED', error: outcome.error });
        await lateWrite(write, deps).catch(warn('late FAILED write'));
      }
    } finally {
      clearInterval(timer);
    }
  });
}

/** Runs `write`, retrying thrown errors LATE_WRITE_RETRIES times with jittered backoff; rethrows the last. */
async function lateWrite(write: () => Promise<boolean>, deps: ProcessDeps): Promise<boolean> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let retry = 0; ; retry++) {
    try {
      return await write();
    } catch (error) {
      if (retry >= LATE_WRITE_RETRIES) throw error;
      await sleep(Math.floor(deps.random() * LATE_WRITE_RETRY_BASE_MS * 2 ** retry));
    }
  }
}
