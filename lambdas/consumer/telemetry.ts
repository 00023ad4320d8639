/**
 * Per-job outcome logs and per-batch metrics. Successes and duplicates log at debug, the rest at
 * info (acknowledged unrun), warn (retried, deferred) or error (dead-lettered, lost). Metrics are
 * aggregated by (job type, lane) and flushed once per batch: one EMF document per type instead of
 * one per job; job types with `tenantMetrics` get one more per (type, tenant), with the Tenant
 * dimension.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { JOB_METRICS } from '../shared/contract';

/** What happened to one message. */
export type JobOutcomeStatus =
  | 'SUCCEEDED'
  /** Already SUCCEEDED: acknowledged without running. */
  | 'DUPLICATE'
  /** RUNNING under a live lease elsewhere, or no time left: retried later without running. */
  | 'DEFERRED'
  /** Failed, will be retried after a backoff. */
  | 'RETRY'
  /** Dead-lettered by the consumer (DLQ send succeeded) or left for SQS redrive (last attempt). */
  | 'DEAD'
  /** Should be dead-lettered but the DLQ send failed: reported as a batch failure. */
  | 'DLQ_SEND_FAILED'
  /** Skipped because an earlier message of the same FIFO group failed. */
  | 'FIFO_BLOCKED'
  /** An unexpected error (ledger or SQS unavailable): reported as a batch failure. */
  | 'ERROR'
  /** A completion record (a finished run whose SUCCEEDED write had failed) written to the ledger. */
  | 'COMPLETION_RECORDED'
  /** Cancelled: a delivery of a cancelled job acknowledged unrun, or a run stopped by its abort signal. */
  | 'CANCELLED'
  /** Debounced: a later enqueue of the same window replaced this one; acknowledged unrun. */
  | 'SUPERSEDED'
  /** Over a rate or concurrency limit: deferred (or sent again) without running, no attempt used. */
  | 'LIMITED';

export interface JobOutcome {
  readonly messageId: string;
  readonly status: JobOutcomeStatus;
  /** Report as a batch item failure (the message stays on the lane). */
  readonly itemFailure: boolean;
  readonly jobId?: string;
  readonly type?: string;
  readonly tenant?: string;
  /** The group the job is a member of (lifecycle events carry it). */
  readonly group?: string;
  readonly attempt: number;
  readonly durationMs?: number;
  readonly error?: { readonly type: string; readonly message: string };
  /** The handler ran and failed (counts JobFailed). */
  readonly failed?: boolean;
  readonly detail?: Record<string, unknown>;
}

export const UNKNOWN_TYPE_DIMENSION = '(unknown)';

export class BatchTelemetry {
  private readonly counters = new Map<
    string,
    { type: string; tenant?: string; counts: Map<string, number>; durations: number[] }
  >();

  constructor(
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    private readonly lane: string,
    private readonly knownType: (type: string) => boolean,
    /** Job types defined with `tenantMetrics: true`: their metrics are also emitted per tenant. */
    private readonly perTenant: (type: string) => boolean = () => false,
  ) {}

  record(outcome: JobOutcome): void {
    const line = {
      jobId: outcome.jobId,
      type: outcome.type,
      lane: this.lane,
      tenant: outcome.tenant,
      attempt: outcome.attempt,
      status: outcome.status,
      messageId: outcome.messageId,
      durationMs: outcome.durationMs,
      error: outcome.error,
      ...outcome.detail,
    };
    // The happy path is most lines and most of the log bill: debug (the consumerLogLevel prop,
    // POWERTOOLS_LOG_LEVEL, decides whether it is written). Everything else stays visible at INFO.
    if (outcome.status === 'SUCCEEDED' || outcome.status === 'DUPLICATE')
      this.logger.debug('job outcome', line);
    else if (
      outcome.status === 'COMPLETION_RECORDED' ||
      outcome.status === 'CANCELLED' ||
      outcome.status === 'SUPERSEDED' ||
      outcome.status === 'LIMITED'
    )
      this.logger.info('job outcome', line);
    else if (
      outcome.status === 'DEAD' ||
      outcome.status === 'DLQ_SEND_FAILED' ||
      outcome.status === 'ERROR'
    ) {
      this.logger.error('job outcome', line);
    } else this.logger.warn('job outcome', line);

    const type = outcome.type && this.knownType(outcome.type) ? outcome.type : UNKNOWN_TYPE_DIMENSION;
    this.countInto(this.bucket(type), outcome);
    if (outcome.tenant !== undefined && type !== UNKNOWN_TYPE_DIMENSION && this.perTenant(type)) {
      this.countInto(this.bucket(type, outcome.tenant), outcome);
    }
  }

  private countInto(bucket: ReturnType<BatchTelemetry['bucket']>, outcome: JobOutcome): void {
    const n = JOB_METRICS.names;
    const count = (name: string) => bucket.counts.set(name, (bucket.counts.get(name) ?? 0) + 1);
    if (outcome.status === 'SUCCEEDED') count(n.succeeded);
    if (outcome.status === 'DUPLICATE') count(n.duplicateSkipped);
    if (outcome.status === 'RETRY') count(n.retried);
    if (outcome.status === 'DEAD') count(n.deadLettered);
    if (outcome.status === 'CANCELLED') count(n.cancelled);
    if (outcome.status === 'LIMITED') count(n.limited);
    if (outcome.failed) count(n.failed);
    if (outcome.durationMs !== undefined && (outcome.status === 'SUCCEEDED' || outcome.failed)) {
      bucket.durations.push(outcome.durationMs);
    }
  }

  /** Emit the aggregated metrics; one EMF document per job type. */
  flush(): void {
    for (const { type, tenant, counts, durations } of this.counters.values()) {
      this.metrics.addDimensions({
        [JOB_METRICS.dimensions.jobType]: type,
        [JOB_METRICS.dimensions.lane]: this.lane,
        ...(tenant === undefined ? {} : { [JOB_METRICS.dimensions.tenant]: tenant }),
      });
      for (const [name, value] of counts) this.metrics.addMetric(name, MetricUnit.Count, value);
      for (const ms of durations)
        this.metrics.addMetric(JOB_METRICS.names.duration, MetricUnit.Milliseconds, ms);
      this.metrics.publishStoredMetrics();
    }
    this.counters.clear();
  }

  private bucket(type: string, tenant?: string) {
    const id = tenant === undefined ? type : `${type}\u0000${tenant}`;
    let bucket = this.counters.get(id);
    if (!bucket) {
      bucket = { type, tenant, counts: new Map<string, number>(), durations: [] as number[] };
      this.counters.set(id, bucket);
    }
    return bucket;
  }
}
