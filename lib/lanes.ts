/**
 * Lane definitions: what a user declares per priority lane, the defaults, and how the lane
 * settings are resolved and validated before any resource exists.
 */
import { Duration, Token } from 'aws-cdk-lib';
import { DEFAULTS } from '../lambdas/shared/defaults';
import { JobQueueConfigError } from './errors';
import { checkInt, checkSeconds } from './private/validate';

/** One priority lane: an SQS queue, its DLQ and its consumer. */
export interface LaneOptions {
  /** Lane name, used in job definitions and the stack output: lowercase letters, digits and `-`, at most 32. */
  readonly name: string;

  /**
   * Share of the consumer concurrency budget (`totalConcurrency`) this lane gets.
   * Every lane gets at least 2 concurrent consumers, so no lane starves. Not for a lane with
   * `provisionedPollers`, which takes no part in the budget.
   *
   * @default 1
   */
  readonly weight?: number;

  /**
   * Handler runs, counted by the ledger, before a job is dead-lettered (ledger DEAD, message in the
   * lane's DLQ). Deferrals that are not the job's fault (ledger throttling, another run's live
   * lease, no time left, rate limits, FIFO followers) do not use an attempt. At most 995, so the
   * redrive backstop keeps its headroom.
   *
   * @default 5
   */
  readonly maxAttempts?: number;

  /**
   * The lane queue's redrive `maxReceiveCount`: SQS receives after which SQS itself moves a
   * message to the DLQ. A backstop, not the retry limit: receives also count deferrals that use
   * no attempt, so it must leave headroom over `maxAttempts` (at least `maxAttempts + 5`, at most
   * 1000, the SQS limit).
   *
   * @default - `min(1000, maxAttempts × 2 + 10)`
   */
  readonly maxReceiveCount?: number;

  /**
   * How long a message may wait in the lane before SQS drops it. At most 14 days, the DLQ's retention.
   *
   * @default Duration.days(4)
   */
  readonly retentionPeriod?: Duration;

  /**
   * Age of the oldest message above which the lane's age alarm fires.
   *
   * @default Duration.minutes(5)
   */
  readonly messageAgeObjective?: Duration;

  /**
   * Visible messages above which, for 5 minutes, the lane's depth alarm fires.
   *
   * @default 1000
   */
  readonly depthAlarmThreshold?: number;

  /**
   * Make the lane a FIFO queue (ordering per message group). FIFO lanes take no batching
   * window and at most 10 messages per batch.
   *
   * @default false
   */
  readonly fifo?: boolean;

  /**
   * Messages per consumer invocation for this lane.
   *
   * @default - the JobQueue's `batchSize`, capped at 10 on FIFO lanes
   */
  readonly batchSize?: number;

  /**
   * How long the event source mapping gathers messages before invoking the consumer.
   *
   * @default - the JobQueue's `maxBatchingWindow` on standard lanes; none on FIFO lanes
   */
  readonly maxBatchingWindow?: Duration;

  /**
   * Run the lane's event source mapping in Lambda's provisioned mode: dedicated event pollers
   * that stay ready instead of pollers Lambda scales on demand. Scale-up is about three times
   * faster and goes much higher; each poller handles up to 10 concurrent invokes or about 1 MB/s
   * of messages. It costs money per poller-hour even while the lane is idle: `minimum` pollers
   * are always on (at least 2). For lanes whose spikes must not wait for Lambda to scale.
   *
   * AWS's bounds for SQS: `minimum` 2 to 200 (default 2), `maximum` 2 to 2000 (default 200), and
   * `minimum` ≤ `maximum`. A bound left out gets Lambda's default, written to the template
   * (`MinimumPollers: 2`, `MaximumPollers: 200`): CloudFormation would apply the same default to a
   * missing property, but writing it means removing a bound later resets it instead of relying on
   * how an update treats a property that disappeared. `{}` turns provisioned mode on with both
   * defaults.
   *
   * Provisioned mode and the event source mapping's maximum concurrency are mutually exclusive,
   * so such a lane gets no `maxConcurrency` from the `totalConcurrency` budget: the budget is
   * split by weight among the other lanes only, and `weight` may not be given for this lane. Its
   * concurrency is bounded by `maximum` pollers × 10 and by the account's Lambda concurrency;
   * throttled invokes return the messages to the queue, so keep `maximum` within what the
   * account and the lane's downstream can take.
   *
   * @default - on-demand polling, concurrency capped by the lane's share of `totalConcurrency`
   */
  readonly provisionedPollers?: ProvisionedPollerOptions;
}

/** Bounds of a lane's provisioned event pollers (`LaneOptions.provisionedPollers`). */
export interface ProvisionedPollerOptions {
  /**
   * Pollers that are always on, even when the lane is idle (billed per poller-hour): 2 to 200.
   *
   * @default 2 (Lambda's default for SQS)
   */
  readonly minimum?: number;
  /**
   * Pollers the lane may scale up to: 2 to 2000, at least `minimum`. Each poller handles up to
   * 10 concurrent invokes.
   *
   * @default 200 (Lambda's default for SQS)
   */
  readonly maximum?: number;
}

/** The lanes a JobQueue gets when `lanes` is not given: weighted 6 : 3 : 1. */
export const DEFAULT_LANES: readonly LaneOptions[] = [
  { name: 'high', weight: 6, messageAgeObjective: Duration.minutes(1) },
  { name: 'default', weight: 3, messageAgeObjective: Duration.minutes(5) },
  { name: 'low', weight: 1, messageAgeObjective: Duration.hours(1) },
];

/** A lane with every default applied. */
export interface ResolvedLane {
  readonly name: string;
  readonly weight: number;
  readonly maxAttempts: number;
  /** The queue's redrive maxReceiveCount: a backstop with headroom over maxAttempts. */
  readonly maxReceiveCount: number;
  readonly retentionPeriod: Duration;
  readonly messageAgeObjective: Duration;
  readonly depthAlarmThreshold: number;
  readonly fifo: boolean;
  readonly batchSize: number;
  readonly maxBatchingWindow: Duration;
  /**
   * The event source mapping's maxConcurrency, derived from the weight.
   * Undefined for a lane in provisioned mode (the two are mutually exclusive).
   */
  readonly maxConcurrency?: number;
  /** Provisioned mode's poller bounds, defaults applied; undefined for an on-demand lane. */
  readonly provisionedPollers?: Required<ProvisionedPollerOptions>;
}

/** Lambda's bounds for an SQS event source mapping's maxConcurrency. */
export const MIN_LANE_CONCURRENCY = 2;
export const MAX_LANE_CONCURRENCY = 1000;
/** Lambda's bounds for an SQS event source mapping's provisioned pollers. */
export const MIN_POLLERS = 2;
export const MAX_MINIMUM_POLLERS = 200;
export const MAX_MAXIMUM_POLLERS = 2000;
/** Lambda's defaults for an SQS event source mapping in provisioned mode. */
export const DEFAULT_MINIMUM_POLLERS = 2;
export const DEFAULT_MAXIMUM_POLLERS = 200;
/** DLQ retention: the SQS maximum, so a dead job is kept as long as SQS can keep it. */
export const DLQ_RETENTION = Duration.days(14);

const LANE_NAME = /^[a-z][a-z0-9-]{0,31}$/;

/** SQS's upper bound for a redrive policy's maxReceiveCount. */
export const MAX_RECEIVE_COUNT = 1000;
/** Receives a lane's redrive backstop allows beyond its max attempts, at least. */
export const MIN_RECEIVE_HEADROOM = 5;
/** Largest maxAttempts that still leaves the redrive backstop its headroom. */
export const MAX_ATTEMPTS = MAX_RECEIVE_COUNT - MIN_RECEIVE_HEADROOM;

/**
 * Default redrive backstop: twice the attempts plus 10 receives of room for deferrals that use
 * no attempt, capped at the SQS limit.
 */
export function defaultMaxReceiveCount(maxAttempts: number): number {
  return Math.min(MAX_RECEIVE_COUNT, maxAttempts * 2 + 10);
}

/**
 * Names a lane may not take: keys every plain object already has (`__proto__`, `constructor`,
 * ...). Lanes are published as keys of a JSON object (the config output's `lanes`), where such a
 * name would collide with the prototype in any client that looks lanes up by index.
 */
const RESERVED_LANE_NAMES: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

export interface LaneDefaults {
  readonly batchSize: number;
  readonly maxBatchingWindow: Duration;
  readonly totalConcurrency: number;
}

/**
 * Applies defaults, validates each lane and derives maxConcurrency:
 * `max(2, floor(totalConcurrency × weight / Σweights))`, capped at 1000. Lanes in provisioned
 * mode take no part: the budget, its bounds and Σweights are over the other lanes only, and
 * `totalConcurrency` is not used (nor checked) when every lane is provisioned.
 */
export function resolveLanes(lanes: readonly LaneOptions[], defaults: LaneDefaults): ResolvedLane[] {
  if (lanes.length === 0) {
    throw new JobQueueConfigError('lanes', 'a non-empty list of lane definitions', []);
  }
  const seen = new Set<string>();
  lanes.forEach((lane, i) => {
    if (typeof lane.name === 'string' && RESERVED_LANE_NAMES.has(lane.name)) {
      throw new JobQueueConfigError(
        `lanes[${i}].name`,
        'a name that is not a property every JavaScript object has (such as __proto__ or constructor)',
        lane.name,
      );
    }
    if (typeof lane.name !== 'string' || !LANE_NAME.test(lane.name)) {
      throw new JobQueueConfigError(
        `lanes[${i}].name`,
        'lowercase letters, digits and "-", starting with a letter, at most 32 characters',
        lane.name,
      );
    }
    if (seen.has(lane.name)) {
      throw new JobQueueConfigError(`lanes[${i}].name`, 'unique among lanes', lane.name);
    }
    seen.add(lane.name);
    checkInt(`lanes[${i}].weight`, lane.weight ?? 1, 1, 100);
    checkProvisionedPollers(`lanes[${i}]`, lane);
  });

  // Provisioned lanes have no maxConcurrency, so the budget is shared by the other lanes only.
  const budgetLanes = lanes.filter((lane) => lane.provisionedPollers === undefined);
  const totalWeight = budgetLanes.reduce((sum, lane) => sum + (lane.weight ?? 1), 0);
  if (budgetLanes.length > 0) {
    checkInt(
      'totalConcurrency',
      defaults.totalConcurrency,
      MIN_LANE_CONCURRENCY * budgetLanes.length,
      MAX_LANE_CONCURRENCY * budgetLanes.length,
    );
  }

  return lanes.map((lane, i) => {
    const at = `lanes[${i}]`;
    const fifo = lane.fifo ?? false;
    const weight = lane.weight ?? 1;
    const maxAttempts = lane.maxAttempts ?? DEFAULTS.maxAttempts;
    checkInt(`${at}.maxAttempts`, maxAttempts, 1, MAX_ATTEMPTS);
    // Attempts are counted by the ledger; SQS's receive count only backstops them, with headroom.
    const maxReceiveCount = lane.maxReceiveCount ?? defaultMaxReceiveCount(maxAttempts);
    const minReceiveCount = maxAttempts + MIN_RECEIVE_HEADROOM;
    if (
      !Token.isUnresolved(maxReceiveCount) &&
      (!Number.isInteger(maxReceiveCount) ||
        maxReceiveCount < minReceiveCount ||
        maxReceiveCount > MAX_RECEIVE_COUNT)
    ) {
      throw new JobQueueConfigError(
        `${at}.maxReceiveCount`,
        `an integer from ${minReceiveCount} (maxAttempts ${maxAttempts} + ${MIN_RECEIVE_HEADROOM} receives of headroom) to ${MAX_RECEIVE_COUNT}`,
        maxReceiveCount,
      );
    }
    const retentionPeriod = lane.retentionPeriod ?? Duration.days(4);
    // A redriven message keeps its original enqueue time, so the DLQ must keep messages at least as long.
    checkSeconds(`${at}.retentionPeriod`, retentionPeriod, 60, DLQ_RETENTION.toSeconds());
    const messageAgeObjective = lane.messageAgeObjective ?? Duration.minutes(5);
    checkSeconds(`${at}.messageAgeObjective`, messageAgeObjective, 60, retentionPeriod.toSeconds());
    const depthAlarmThreshold = lane.depthAlarmThreshold ?? 1000;
    checkInt(`${at}.depthAlarmThreshold`, depthAlarmThreshold, 1, 100_000_000);

    const batchSize = lane.batchSize ?? (fifo ? Math.min(defaults.batchSize, 10) : defaults.batchSize);
    checkInt(`${at}.batchSize`, batchSize, 1, fifo ? 10 : 10_000);
    const maxBatchingWindow =
      lane.maxBatchingWindow ?? (fifo ? Duration.seconds(0) : defaults.maxBatchingWindow);
    if (fifo && maxBatchingWindow.toSeconds() > 0) {
      throw new JobQueueConfigError(
        `${at}.maxBatchingWindow`,
        '0 seconds on a FIFO lane (SQS FIFO event sources take no batching window)',
        maxBatchingWindow.toHumanString(),
      );
    }
    checkSeconds(`${at}.maxBatchingWindow`, maxBatchingWindow, 0, 300);
    if (batchSize > 10 && maxBatchingWindow.toSeconds() < 1) {
      throw new JobQueueConfigError(
        `${at}.maxBatchingWindow`,
        'at least 1 second when batchSize is above 10 (a Lambda SQS event source rule)',
        maxBatchingWindow.toHumanString(),
      );
    }

    const provisionedPollers = lane.provisionedPollers && {
      minimum: lane.provisionedPollers.minimum ?? DEFAULT_MINIMUM_POLLERS,
      maximum: lane.provisionedPollers.maximum ?? DEFAULT_MAXIMUM_POLLERS,
    };
    let maxConcurrency: number | undefined;
    if (provisionedPollers === undefined) {
      const share = Math.floor((defaults.totalConcurrency * weight) / totalWeight);
      maxConcurrency = Math.min(MAX_LANE_CONCURRENCY, Math.max(MIN_LANE_CONCURRENCY, share));
    }

    return {
      name: lane.name,
      weight,
      maxAttempts,
      maxReceiveCount,
      retentionPeriod,
      messageAgeObjective,
      depthAlarmThreshold,
      fifo,
      batchSize,
      maxBatchingWindow,
      maxConcurrency,
      provisionedPollers,
    };
  });
}

/**
 * Provisioned mode: integers within Lambda's SQS bounds, minimum ≤ maximum, and no `weight`
 * (a provisioned lane has no share of the budget, so a weight would be silently ignored).
 * Unresolved tokens pass, to be checked at deploy.
 */
function checkProvisionedPollers(at: string, lane: LaneOptions): void {
  const pollers = lane.provisionedPollers;
  if (pollers === undefined) return;
  if (pollers === null || typeof pollers !== 'object') {
    throw new JobQueueConfigError(
      `${at}.provisionedPollers`,
      'an object { minimum?, maximum? } of poller counts',
      pollers,
    );
  }
  if (lane.weight !== undefined) {
    throw new JobQueueConfigError(
      `${at}.weight`,
      'left out on a lane with provisionedPollers (provisioned mode and maximum concurrency are mutually exclusive: the lane takes no share of totalConcurrency, so its weight would be ignored)',
      lane.weight,
    );
  }
  const { minimum, maximum } = pollers;
  if (minimum !== undefined)
    checkInt(`${at}.provisionedPollers.minimum`, minimum, MIN_POLLERS, MAX_MINIMUM_POLLERS);
  if (maximum !== undefined)
    checkInt(`${at}.provisionedPollers.maximum`, maximum, MIN_POLLERS, MAX_MAXIMUM_POLLERS);
  if (
    minimum !== undefined &&
    maximum !== undefined &&
    !Token.isUnresolved(minimum) &&
    !Token.isUnresolved(maximum) &&
    minimum > maximum
  ) {
    throw new JobQueueConfigError(
      `${at}.provisionedPollers.maximum`,
      `at least provisionedPollers.minimum (${minimum})`,
      maximum,
    );
  }
}
