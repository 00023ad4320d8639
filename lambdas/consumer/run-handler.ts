/**
 * Runs one handler under a deadline (AbortSignal), with a heartbeat that keeps the message
 * invisible and the lease alive when the run could outlast them, and throttled progress writes.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSRecord } from 'aws-lambda';
import type { Ledger } from '../ledger/ledger';
import type { AnyJob, JobContext, JobProgress } from '../registry/types';
import type { JobEnvelope } from '../shared/contract';
import { describeError, JobCancelledError, JobTimeoutError } from '../shared/errors';
import type { SqsActions } from './sqs-actions';

export interface RunInput {
  readonly job: AnyJob;
  readonly payload: unknown;
  readonly envelope: JobEnvelope;
  readonly record: SQSRecord;
  readonly attempt: number;
  readonly lane: string;
  /** How long the handler may run. */
  readonly timeoutMs: number;
  /** Lease owner token (strict mode); progress writes are then owner-conditional. */
  readonly owner?: string;
  readonly leaseMs: number;
  /** Epoch ms at which the message becomes visible again unless extended. */
  readonly visibleUntil: number;
}

export interface RunDeps {
  readonly ledger: Ledger;
  readonly sqs: SqsActions;
  readonly logger: Logger;
  readonly now: () => number;
  readonly visibilityTimeoutSeconds: number;
  readonly progressIntervalMs: number;
  /** @default - a third of the visibility timeout, at least 1 s */
  readonly heartbeatIntervalMs?: number;
  /** How long a timed-out handler gets to honour its abort signal before it counts as abandoned. @default 1000 */
  readonly settleGraceMs?: number;
  /**
   * How often the run checks the ledger for a cancel request (one projected, eventually consistent
   * read); the first check is one interval after the start, so shorter runs read nothing.
   * @default - no checks (`none` idempotency: cancel does not apply)
   */
  readonly cancelCheckIntervalMs?: number;
}

export type RunResult =
  | {
      readonly ok: true;
      readonly result: unknown;
      readonly durationMs: number;
      readonly progress: ProgressState;
    }
  | {
      readonly ok: false;
      readonly error: unknown;
      readonly durationMs: number;
      readonly progress: ProgressState;
      /** The job was cancelled during the run and the handler then failed (it honoured its signal). */
      readonly cancelled?: boolean;
      /**
       * Set when the handler timed out and did not settle within the grace: it may still be
       * running (it ignores its abort signal). Settles with the handler's late outcome.
       */
      readonly abandoned?: Promise<
        { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly error: unknown }
      >;
    };

export interface ProgressState {
  /** Latest value reported, if any. */
  readonly latest?: JobProgress;
  /** True once a progress write reached the ledger. */
  readonly written: boolean;
  /** True when the latest value has not been written (the final ledger write should carry it). */
  readonly pending: boolean;
}

export async function runHandler(input: RunInput, deps: RunDeps): Promise<RunResult> {
  const started = deps.now();
  const deadline = started + input.timeoutMs;
  const controller = new AbortController();
  // A child logger is a whole Powertools Logger: build it only for handlers (and warnings) that log.
  let child: Logger | undefined;
  const logger = (): Logger =>
    (child ??= deps.logger.createChild({
      persistentKeys: {
        jobId: input.envelope.id,
        jobType: input.job.type,
        lane: input.lane,
        attempt: input.attempt,
        ...(input.envelope.correlationId ? { correlationId: input.envelope.correlationId } : {}),
        ...(typeof input.envelope.tenant === 'string' ? { tenant: input.envelope.tenant } : {}),
      },
    }));
  const progress = new ProgressWriter(input, deps, logger);
  const heartbeat = new Heartbeat(input, deps, logger, deadline);
  // Whether the handler took its signal: only then can anything be listening for the abort below.
  let signalTaken = false;

  const ctx: JobContext = {
    jobId: input.envelope.id,
    type: input.job.type,
    attempt: input.attempt,
    lane: input.lane,
    get signal() {
      signalTaken = true;
      return controller.signal;
    },
    get logger() {
      return logger();
    },
    correlationId: input.envelope.correlationId,
    idempotencyKey: input.envelope.key,
    enqueuedAt: input.envelope.enqueuedAt,
    tenant: typeof input.envelope.tenant === 'string' ? input.envelope.tenant : undefined,
    progress: (value) => progress.report(value),
    remainingMs: () => Math.max(0, deadline - deps.now()),
    ...(input.envelope.chain
      ? {
          chain: {
            id: input.envelope.chain.id,
            index: input.envelope.chain.index,
            ...(input.envelope.chain.input === undefined ? {} : { input: input.envelope.chain.input }),
          },
        }
      : {}),
    ...(input.envelope.group ? { groupId: input.envelope.group.id } : {}),
  };

  let timer: NodeJS.Timeout | undefined;
  // Built when the deadline passes, not for every run (an Error captures a stack trace).
  let timeout: JobTimeoutError | undefined;
  const timedOut = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => {
      timeout = new JobTimeoutError(input.timeoutMs);
      controller.abort(timeout);
      resolve(TIMED_OUT);
    }, input.timeoutMs);
  });
  heartbeat.start();
  const cancelWatch = new CancelWatch(input, deps, logger, controller);
  cancelWatch.start();
  // The handler's outcome as a value: a handler that ignores the signal keeps running after the
  // deadline, and its late rejection must not become an unhandled rejection.
  const running = Promise.resolve()
    .then(() => input.job.handler(input.payload, ctx))
    .then(
      (result) => ({ ok: true as const, result }),
      (error: unknown) => ({ ok: false as const, error }),
    );
  try {
    const first = await Promise.race([running, timedOut]);
    let outcome = first === TIMED_OUT ? undefined : first;
    if (outcome === undefined) {
      // Timed out: give the handler a moment to honour the signal, so its retry cannot overlap it.
      outcome = await settleWithin(running, deps.settleGraceMs ?? 1000);
      if (outcome === undefined) {
        return {
          ok: false,
          error: timeout,
          durationMs: deps.now() - started,
          progress: progress.stop(),
          abandoned: running,
        };
      }
      // A handler that stopped at the signal failed by timeout, whatever it threw.
      if (!outcome.ok) outcome = { ok: false, error: timeout };
    }
    if (outcome.ok) {
      // A handler that finished its work despite a cancel request succeeded: the work is done.
      return {
        ok: true,
        result: outcome.result,
        durationMs: deps.now() - started,
        progress: progress.stop(),
      };
    }
    if (cancelWatch.cancelled) {
      // It stopped at the cancel signal (whatever it threw): the run ends CANCELLED.
      return {
        ok: false,
        error: controller.signal.reason,
        cancelled: true,
        durationMs: deps.now() - started,
        progress: progress.stop(),
      };
    }
    return { ok: false, error: outcome.error, durationMs: deps.now() - started, progress: progress.stop() };
  } finally {
    clearTimeout(timer);
    heartbeat.stop();
    cancelWatch.stop();
    // Tells whatever the handler left listening on its signal that the run is over.
    if (signalTaken && !controller.signal.aborted) controller.abort(new Error('job finished'));
  }
}

/** What the deadline's promise settles with (the handler's outcome is never this value). */
const TIMED_OUT: unique symbol = Symbol('timed out');

/** The promise's value if it settles within `ms`, else undefined. */
async function settleWithin<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Leading write, then at most one write per interval; the final ledger write carries the rest. */
class ProgressWriter {
  private latest: JobProgress | undefined;
  private lastWriteAt = Number.NEGATIVE_INFINITY;
  private written = false;
  private pending = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly input: RunInput,
    private readonly deps: RunDeps,
    private readonly logger: () => Logger,
  ) {}

  async report(value: JobProgress): Promise<void> {
    if (this.stopped) return;
    this.latest = value;
    this.pending = true;
    const wait = this.lastWriteAt + this.deps.progressIntervalMs - this.deps.now();
    if (wait <= 0) {
      await this.write();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.write();
    }, wait);
  }

  stop(): ProgressState {
    this.stopped = true;
    clearTimeout(this.timer);
    return { latest: this.latest, written: this.written, pending: this.pending };
  }

  private async write(): Promise<void> {
    if (this.stopped || this.latest === undefined) return;
    const value = this.latest;
    this.lastWriteAt = this.deps.now();
    this.pending = false;
    try {
      const ok = await this.deps.ledger.progress({
        jobId: this.input.envelope.id,
        owner: this.input.owner,
        type: this.input.job.type,
        lane: this.input.lane,
        leaseMs: this.input.leaseMs,
        progress: value,
      });
      if (ok) this.written = true;
      else this.logger().warn('progress not recorded: the job is no longer ours');
    } catch (error) {
      // Progress is advisory: a throttled write must not fail the job.
      this.logger().warn('progress write failed', { error: describeError(error) });
    }
  }
}

/**
 * Checks the ledger every `cancelCheckIntervalMs` while the handler runs; on a cancel request it
 * aborts the handler's signal with JobCancelledError. A failed read is logged and tried again at
 * the next tick: the job is not failed for it.
 */
class CancelWatch {
  cancelled = false;
  private timer: NodeJS.Timeout | undefined;
  private checking = false;

  constructor(
    private readonly input: RunInput,
    private readonly deps: RunDeps,
    private readonly logger: () => Logger,
    private readonly controller: AbortController,
  ) {}

  start(): void {
    const interval = this.deps.cancelCheckIntervalMs;
    if (interval === undefined) return;
    this.timer = setInterval(() => void this.check(), interval);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async check(): Promise<void> {
    if (this.checking || this.cancelled || this.controller.signal.aborted) return;
    this.checking = true;
    try {
      if (!(await this.deps.ledger.cancelRequested(this.input.envelope.id))) return;
      if (this.timer === undefined || this.controller.signal.aborted) return;
      this.cancelled = true;
      this.stop();
      this.logger().warn('job cancelled: aborting the handler');
      this.controller.abort(new JobCancelledError(this.input.envelope.id));
    } catch (error) {
      this.logger().warn('cancel check failed; trying again at the next heartbeat', {
        error: describeError(error),
      });
    } finally {
      this.checking = false;
    }
  }
}

/**
 * Extends the message visibility (and the lease) when they would lapse before the next tick.
 * With the construct's derived settings (visibility ≥ 6 × function timeout, lease ≥ deadline)
 * it never has to call anything; it protects hand-made queues and long jobs.
 */
class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private visibleUntil: number;
  private leaseUntil: number;
  private readonly intervalMs: number;

  constructor(
    private readonly input: RunInput,
    private readonly deps: RunDeps,
    private readonly logger: () => Logger,
    private readonly deadline: number,
  ) {
    this.visibleUntil = input.visibleUntil;
    this.leaseUntil = deps.now() + input.leaseMs;
    this.intervalMs = deps.heartbeatIntervalMs ?? Math.max(1000, (deps.visibilityTimeoutSeconds * 1000) / 3);
  }

  start(): void {
    if (
      this.visibleUntil > this.deadline &&
      (this.input.owner === undefined || this.leaseUntil > this.deadline)
    )
      return;
    this.timer = setInterval(() => void this.beat(), this.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async beat(): Promise<void> {
    const now = this.deps.now();
    const soon = now + 2 * this.intervalMs;
    if (this.visibleUntil < soon && this.deps.visibilityTimeoutSeconds > 0) {
      if (await this.deps.sqs.setVisibility(this.input.record, this.deps.visibilityTimeoutSeconds)) {
        this.visibleUntil = now + this.deps.visibilityTimeoutSeconds * 1000;
      }
    }
    if (this.input.owner !== undefined && this.leaseUntil < soon) {
      try {
        const ok = await this.deps.ledger.extendLease({
          jobId: this.input.envelope.id,
          owner: this.input.owner,
          leaseMs: this.input.leaseMs,
        });
        if (ok) this.leaseUntil = now + this.input.leaseMs;
        else this.logger().warn('lease lost: another consumer took the job over');
      } catch (error) {
        this.logger().warn('lease extension failed', { error: describeError(error) });
      }
    }
  }
}
