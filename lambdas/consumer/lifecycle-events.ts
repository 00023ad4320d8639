/**
 * Lifecycle events (opt-in): after each batch, one EventBridge event per job that ended SUCCEEDED
 * (its handler ran in this delivery), DEAD or CANCELLED, at most 10 entries per PutEvents call.
 *
 * Events are a notification, never part of a job's outcome: entries EventBridge refuses
 * (FailedEntryCount) are sent once more, then logged; a call that throws (after the SDK's own
 * retries) is logged. Nothing here changes what the batch reports to SQS.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import { LIFECYCLE_EVENTS, type LifecycleEventDetail } from '../shared/contract';
import { describeError } from '../shared/errors';
import { type JobOutcome, UNKNOWN_TYPE_DIMENSION } from './telemetry';

export interface LifecycleEventsOptions {
  readonly eventBridge: EventBridgeClient;
  readonly eventBus: string;
  readonly lane: string;
  readonly logger: Logger;
  /** @default Date.now */
  readonly now?: () => number;
}

/** The outcome statuses that end a job, and the event each one sends. */
const EVENT_STATUS: Partial<Record<JobOutcome['status'], LifecycleEventDetail['status']>> = {
  SUCCEEDED: 'SUCCEEDED',
  DEAD: 'DEAD',
  CANCELLED: 'CANCELLED',
};

/** The lifecycle event detail of an outcome, or undefined when the outcome sends none. */
export function lifecycleDetail(
  outcome: JobOutcome,
  lane: string,
  at: string,
): LifecycleEventDetail | undefined {
  const status = EVENT_STATUS[outcome.status];
  if (status === undefined || outcome.jobId === undefined) return undefined;
  return {
    jobId: outcome.jobId,
    type: outcome.type ?? UNKNOWN_TYPE_DIMENSION,
    lane,
    status,
    attempt: outcome.attempt,
    ...(outcome.tenant === undefined ? {} : { tenant: outcome.tenant }),
    ...(outcome.group === undefined ? {} : { group: outcome.group }),
    ...(outcome.error === undefined ? {} : { error: outcome.error }),
    ...(outcome.durationMs === undefined ? {} : { durationMs: outcome.durationMs }),
    at,
  };
}

export class LifecycleEvents {
  constructor(private readonly options: LifecycleEventsOptions) {}

  /** Sends the events of a batch's outcomes; never throws. */
  async publish(outcomes: readonly JobOutcome[]): Promise<void> {
    const now = (this.options.now ?? Date.now)();
    const at = new Date(now).toISOString();
    const entries: PutEventsRequestEntry[] = [];
    for (const outcome of outcomes) {
      const detail = lifecycleDetail(outcome, this.options.lane, at);
      if (detail === undefined) continue;
      entries.push({
        Source: LIFECYCLE_EVENTS.source,
        DetailType: LIFECYCLE_EVENTS.detailTypes[detail.status],
        Detail: JSON.stringify(detail),
        EventBusName: this.options.eventBus,
        Time: new Date(now),
      });
    }
    const size = LIFECYCLE_EVENTS.maxEntriesPerCall;
    const chunks: PutEventsRequestEntry[][] = [];
    for (let i = 0; i < entries.length; i += size) chunks.push(entries.slice(i, i + size));
    await Promise.all(chunks.map((chunk) => this.send(chunk)));
  }

  /** One PutEvents call, and once more for the entries it refused. */
  private async send(entries: PutEventsRequestEntry[]): Promise<void> {
    let pending = entries;
    for (let round = 1; ; round++) {
      let answer: { readonly FailedEntryCount?: number; readonly Entries?: PutEventsResultEntry[] };
      try {
        answer = await this.options.eventBridge.send(new PutEventsCommand({ Entries: pending }));
      } catch (error) {
        this.options.logger.warn('lifecycle events not sent: PutEvents failed', {
          eventBus: this.options.eventBus,
          events: pending.map((entry) => jobOf(entry)),
          error: describeError(error),
        });
        return;
      }
      if (!answer.FailedEntryCount) return;
      // Results are in the order of the request's entries; a refused one has no EventId.
      const refused = pending
        .map((entry, i) => ({ entry, result: answer.Entries?.[i] }))
        .filter(({ result }) => result?.EventId === undefined);
      if (refused.length === 0) return;
      if (round >= 2) {
        this.options.logger.warn('lifecycle events not sent: EventBridge refused them twice', {
          eventBus: this.options.eventBus,
          events: refused.map(({ entry, result }) => ({
            ...jobOf(entry),
            errorCode: result?.ErrorCode,
            errorMessage: result?.ErrorMessage,
          })),
        });
        return;
      }
      pending = refused.map(({ entry }) => entry);
    }
  }
}

function jobOf(entry: PutEventsRequestEntry): { jobId?: string; detailType?: string } {
  try {
    return { jobId: JSON.parse(entry.Detail ?? '{}').jobId, detailType: entry.DetailType };
  } catch {
    return { detailType: entry.DetailType };
  }
}
