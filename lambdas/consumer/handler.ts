/**
 * `createConsumerHandler(registry)`: the SQS → Lambda handler for one lane. Configuration and
 * clients are built once per container; each invocation processes its batch with bounded
 * parallelism (standard lanes) or in order per message group (FIFO lanes) and returns a partial
 * batch response.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { ChainStore } from '../ledger/chain-store';
import { GroupStore, type SendCallback } from '../ledger/group-store';
import { Ledger } from '../ledger/ledger';
import { Limits } from '../ledger/limits';
import type { JobRegistry } from '../registry/types';
import type { Random } from '../shared/backoff';
import { JOB_METRICS } from '../shared/contract';
import { describeError } from '../shared/errors';
import { createS3Client } from '../shared/s3-client';
import { SDK_CLIENT_DEFAULTS } from '../shared/sdk-clients';
import { mapWithConcurrency } from './concurrency';
import { type ConsumerConfig, readConsumerConfig } from './config';
import { LifecycleEvents } from './lifecycle-events';
import { deferFollower, type ProcessDeps, processRecord, type RecordOutcome } from './process-record';
import { ResultStore } from './result-store';
import { SqsActions } from './sqs-actions';
import { BatchTelemetry } from './telemetry';

export interface ConsumerOptions {
  /** @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Clients passed in are used as given. The ones the consumer makes resolve each command's
   * middleware stack once (`cacheMiddleware`, see lambdas/shared/sdk-clients.ts): worth setting on
   * a client you pass in too, unless you add middleware to it after its first call.
   * @default - a new SQSClient (region and endpoint from the environment, `cacheMiddleware`)
   */
  readonly sqs?: SQSClient;
  /** @default - a new DynamoDBClient (`cacheMiddleware`) */
  readonly dynamodb?: DynamoDBClient;
  /** Writes results over the ledger's inline limit (with a results bucket). @default - a new S3Client (`cacheMiddleware`) */
  readonly s3?: S3Client;
  /** Sends lifecycle events (with an event bus). @default - a new EventBridgeClient (`cacheMiddleware`) */
  readonly eventBridge?: EventBridgeClient;
  /** @default - a Powertools Logger with serviceName 'sqs-jobs' */
  readonly logger?: Logger;
  /** @default - Powertools Metrics, namespace POWERTOOLS_METRICS_NAMESPACE or 'SqsJobs' */
  readonly metrics?: Metrics;
  /** @default Math.random */
  readonly random?: Random;
  /** @default Date.now */
  readonly now?: () => number;
  /** Minimum time between progress writes of one job, ms. @default 5000 */
  readonly progressIntervalMs?: number;
  /** Heartbeat tick, ms. @default - a third of the visibility timeout, at least 1000 */
  readonly heartbeatIntervalMs?: number;
  /**
   * How often a long run checks whether its job was cancelled, ms.
   * @default - the job's `heartbeatSeconds` (10 s)
   */
  readonly cancelCheckIntervalMs?: number;
  /** Kept back from the Lambda's remaining time for the final writes, ms. @default 3000 */
  readonly safetyMarginMs?: number;
  /** Lease = handler deadline + this, ms. @default 10000 */
  readonly leaseGraceMs?: number;
  /** How long a timed-out handler gets to honour its abort signal before it counts as abandoned, ms. @default 1000 */
  readonly settleGraceMs?: number;
  /**
   * How long an invocation that finds a handler still running after it timed out and ignored its
   * abort signal (an abandoned run) waits for it to settle and its late outcome to be written, ms.
   * If it does, the batch runs as usual; if not, the batch is handed back and the environment
   * recycled. Waiting spares the job a second run: ending the process could cut the abandoned
   * handler off after its side effect and before its outcome is written.
   * Jobs of the batch that no longer have time to run after the wait are handed back unrun (no
   * attempt used).
   * @default - the invocation's remaining time less the safety margin
   */
  readonly abandonedWaitMs?: number;
  /**
   * Ends this execution environment. Called at the start of an invocation while an abandoned
   * handler is still running after `abandonedWaitMs`, once the batch's messages were made visible
   * again: nothing of the abandoned run may carry on next to later jobs.
   * @default - process.exit(1) (Lambda then starts a fresh environment)
   */
  readonly recycle?: () => void;
}

export type ConsumerHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export function createConsumerHandler(registry: JobRegistry, options: ConsumerOptions = {}): ConsumerHandler {
  const env = options.env ?? process.env;
  const config = readConsumerConfig(env);
  const logger =
    options.logger ?? new Logger({ serviceName: 'sqs-jobs', persistentKeys: { lane: config.lane } });
  const metrics = options.metrics ?? defaultMetrics(env);
  const sqsClient = options.sqs ?? new SQSClient({ ...SDK_CLIENT_DEFAULTS });
  const dynamodb = options.dynamodb ?? new DynamoDBClient({ ...SDK_CLIENT_DEFAULTS });
  const ledger = new Ledger({
    client: dynamodb,
    tableName: config.tableName,
    ttlSeconds: config.ledgerTtlSeconds,
    now: options.now,
    searchIndex: config.searchIndex,
  });
  const sqsActions = new SqsActions({
    sqs: sqsClient,
    queueUrl: config.queueUrl,
    dlqUrl: config.dlqUrl,
    fifo: config.fifo,
    logger,
  });
  const send: SendCallback = (input) => sqsActions.sendTo(input);
  const stores = {
    client: dynamodb,
    tableName: config.tableName,
    ledger,
    ttlSeconds: config.ledgerTtlSeconds,
    send,
    now: options.now,
  };
  const deps: ProcessDeps = {
    registry,
    config,
    ledger,
    limits: new Limits({ client: dynamodb, tableName: config.tableName, now: options.now }),
    sqs: sqsActions,
    workflow: { groups: new GroupStore(stores), chains: new ChainStore(stores) },
    logger,
    results:
      config.resultsBucket === undefined
        ? undefined
        : new ResultStore({ s3: options.s3 ?? createS3Client(env), bucket: config.resultsBucket, logger }),
    random: options.random ?? Math.random,
    now: options.now ?? Date.now,
    progressIntervalMs: options.progressIntervalMs ?? 5000,
    heartbeatIntervalMs: options.heartbeatIntervalMs,
    cancelCheckIntervalMs: options.cancelCheckIntervalMs,
    safetyMarginMs: options.safetyMarginMs ?? 3000,
    leaseGraceMs: options.leaseGraceMs ?? 10_000,
    settleGraceMs: options.settleGraceMs,
    onAbandoned: (settledAndRecorded) => {
      const tracked: Promise<void> = settledAndRecorded.then(
        () => {},
        () => {},
      );
      abandoned.add(tracked);
      void tracked.finally(() => abandoned.delete(tracked));
    },
  };
  // Handlers that timed out, ignored their abort signal and are still running in this environment
  // (or whose late outcome is still being written).
  const abandoned = new Set<Promise<void>>();
  const recycle = options.recycle ?? (() => process.exit(1));
  const events =
    config.eventBus === undefined
      ? undefined
      : new LifecycleEvents({
          eventBridge: options.eventBridge ?? new EventBridgeClient({ ...SDK_CLIENT_DEFAULTS }),
          eventBus: config.eventBus,
          lane: config.lane,
          logger,
          now: options.now,
        });

  return async (event, context) => {
    // Visibility counts from the receive, before any wait below.
    const invokedAt = deps.now();
    if (abandoned.size > 0) {
      const waitMs = Math.max(
        0,
        options.abandonedWaitMs ?? context.getRemainingTimeInMillis() - deps.safetyMarginMs,
      );
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([...abandoned]),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, waitMs);
        }),
      ]);
      clearTimeout(timer);
      if (abandoned.size > 0) {
        // Hand the batch back at once (no attempt used), then end this environment.
        logger.error('recycling the execution environment: an abandoned handler is still running', {
          abandoned: abandoned.size,
          waitedMs: waitMs,
        });
        await deps.sqs.setVisibilityBatch(event.Records ?? [], 0);
        recycle();
        return { batchItemFailures: (event.Records ?? []).map((r) => ({ itemIdentifier: r.messageId })) };
      }
      logger.warn('an abandoned handler settled and its outcome is written; running the batch');
    }
    const telemetry = new BatchTelemetry(
      logger,
      metrics,
      config.lane,
      (type) => registry.has(type),
      (type) => registry.get(type)?.tenantMetrics === true,
    );
    const records = event.Records ?? [];
    const outcomes = config.fifo
      ? await processFifo(records, context, invokedAt, deps, config)
      : await mapWithConcurrency(records, config.batchParallelism, (record) =>
          safeProcess(record, context, invokedAt, deps),
        );
    for (const outcome of outcomes) telemetry.record(outcome);
    telemetry.flush();
    await events?.publish(outcomes);
    return {
      batchItemFailures: outcomes
        .filter((outcome) => outcome.itemFailure)
        .map((outcome) => ({ itemIdentifier: outcome.messageId })),
    };
  };
}

/**
 * FIFO: groups run in parallel, each group strictly in order. Once a message of a group fails,
 * it and every later message of that group are reported as failures (not run), so SQS hands them
 * back in the same order; the later ones get the same visibility delay as the failed one.
 */
async function processFifo(
  records: readonly SQSRecord[],
  context: Context,
  invokedAt: number,
  deps: ProcessDeps,
  config: ConsumerConfig,
): Promise<RecordOutcome[]> {
  const groups = new Map<string, number[]>();
  records.forEach((record, index) => {
    const group = record.attributes.MessageGroupId ?? '';
    groups.set(group, [...(groups.get(group) ?? []), index]);
  });
  const outcomes: RecordOutcome[] = new Array(records.length);
  await mapWithConcurrency([...groups.values()], config.batchParallelism, async (indexes) => {
    for (let i = 0; i < indexes.length; i++) {
      const index = indexes[i];
      const outcome = await safeProcess(records[index], context, invokedAt, deps);
      outcomes[index] = outcome;
      if (!outcome.itemFailure) continue;
      const rest = indexes.slice(i + 1);
      for (const later of rest) {
        outcomes[later] = await deferFollower(
          records[later],
          outcome.messageId,
          outcome.retryAfterSeconds,
          deps,
        );
      }
      const held = rest.filter((later) => outcomes[later].itemFailure);
      if (held.length > 0 && outcome.retryAfterSeconds !== undefined) {
        await deps.sqs.setVisibilityBatch(
          held.map((later) => records[later]),
          outcome.retryAfterSeconds,
        );
      }
      return;
    }
  });
  return outcomes;
}

async function safeProcess(
  record: SQSRecord,
  context: Context,
  invokedAt: number,
  deps: ProcessDeps,
): Promise<RecordOutcome> {
  try {
    return await processRecord(record, context, invokedAt, deps);
  } catch (error) {
    // processRecord handles expected failures; anything else keeps the message on the lane.
    return {
      messageId: record.messageId,
      attempt: Number.parseInt(record.attributes.ApproximateReceiveCount, 10) || 1,
      status: 'ERROR',
      itemFailure: true,
      error: describeError(error),
    };
  }
}

function defaultMetrics(env: Readonly<Record<string, string | undefined>>): Metrics {
  const metrics = new Metrics({
    namespace: env.POWERTOOLS_METRICS_NAMESPACE || JOB_METRICS.defaultNamespace,
    serviceName: 'sqs-jobs',
  });
  // Exactly {JobType, Lane} on every metric, so alarms can address them (see JOB_METRICS).
  metrics.clearDefaultDimensions();
  return metrics;
}
