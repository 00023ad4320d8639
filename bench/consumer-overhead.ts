/**
 * Part 1: consumer overhead per job, ours against Powertools idempotency + batch, on the same
 * DynamoDB engine (DynamoDB Local), with the same batches of 10 no-op jobs and the same duplicate
 * pattern (0 %, 1 %, 10 % of messages re-deliver a job that already finished).
 *
 * - ours: `createConsumerHandler(registry)` with the `high` lane's environment from the synthesized
 *   example stack; one no-op job type per ledger mode (strict, optimistic).
 * - Powertools: `processPartialResponse` + `BatchProcessor(SQS)` around a record handler wrapped by
 *   `makeIdempotent` with the `DynamoDBPersistenceLayer`, keyed on the job id in the body
 *   (`powertools_json(body).id`), so a re-delivered job is a duplicate for both.
 *
 * Batches of the three implementations are interleaved (rotating order) so machine noise hits all
 * alike. SQS calls the consumers would make (visibility changes, DLQ sends; none on this no-op
 * path) go to a stub middleware that answers without a network call and counts them. Log lines
 * are serialized as in Lambda but written to a byte counter instead of the terminal.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { createConsumerHandler } from '../lambdas/consumer';
import { defineJob, defineRegistry } from '../lambdas/registry';
import { createEnvelope } from '../lambdas/shared/envelope';
import type { CfnTemplate } from './cost-model';
import { consumerFunction } from './lib/consumer-env';
import {
  countedClient,
  type DdbCounter,
  diff,
  newCounter,
  recreateTable,
  snapshot,
  stubClient,
} from './lib/ddb';
import { lambdaContext, sqsEvent, sqsRecord } from './lib/lambda-event';
import { percentile, round, seeded } from './lib/stats';

export const DUPLICATE_RATES = [0, 0.01, 0.1] as const;
export const IMPLEMENTATIONS = ['oursStrict', 'oursOptimistic', 'powertools'] as const;
export type Implementation = (typeof IMPLEMENTATIONS)[number];

export interface ScenarioResult {
  readonly implementation: Implementation;
  readonly duplicateRate: number;
  readonly batches: number;
  readonly jobs: number;
  readonly duplicates: number;
  readonly p50BatchMs: number;
  readonly p99BatchMs: number;
  readonly meanBatchMs: number;
  readonly ddbCallsPerJob: number;
  readonly ddbCallsByCommand: Record<string, number>;
  /** Mean client-side latency per DynamoDB command, ms. */
  readonly ddbMeanMsByCommand: Record<string, number>;
  readonly writeUnitsPerJob: number;
  readonly readUnitsPerJob: number;
  /** Of the write units, those estimated for failed conditional writes (DynamoDB Local reports none). */
  readonly failedConditionalWritesPerJob: number;
  readonly sqsCallsPerJob: number;
  readonly logBytesPerJob: number;
  readonly batchItemFailures: number;
}

export interface ConsumerOverheadResult {
  readonly engine: 'dynamodb-local' | 'stub';
  readonly batchSize: number;
  readonly batchesPerScenario: number;
  readonly warmupBatches: number;
  readonly lane: string;
  readonly env: Record<string, string>;
  readonly scenarios: ScenarioResult[];
}

const noop = async () => undefined;
const schema = z.object({ n: z.number().int() });
const registry = defineRegistry([
  defineJob({ type: 'noop-strict', idempotency: 'strict', schema, handler: noop }),
  defineJob({ type: 'noop-optimistic', idempotency: 'optimistic', schema, handler: noop }),
]);

/** SQS client that answers every command locally (and counts them). */
function stubSqs(counter: { calls: number }): SQSClient {
  const client = new SQSClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  client.middlewareStack.add(
    () => async () => {
      counter.calls++;
      return { output: { $metadata: {} }, response: {} };
    },
    { step: 'initialize', name: 'benchSqsStub' },
  );
  return client;
}

type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

interface Impl {
  readonly name: Implementation;
  readonly handler: Handler;
  readonly ddb: DdbCounter;
  readonly sqs: { calls: number };
  readonly jobType: string;
  readonly finished: string[];
  seq: number;
}

export async function measureConsumerOverhead(options: {
  /** DynamoDB Local's endpoint, or `stub` for a zero-latency stub (the consumers' own CPU only). */
  readonly endpoint: string | 'stub';
  readonly template: CfnTemplate;
  readonly batches: number;
  readonly warmup: number;
  /** Duplicate rates to run (default all). */
  readonly duplicateRates?: readonly number[];
  readonly progress?: (line: string) => void;
}): Promise<ConsumerOverheadResult> {
  const log = options.progress ?? (() => undefined);
  const lane = 'high';
  const ledgerTable = 'bench-ledger';
  const powertoolsTable = 'bench-powertools-idempotency';
  const fn = consumerFunction(options.template, lane, { tableName: ledgerTable });
  const { NODE_OPTIONS: _nodeOptions, ...env } = fn.env;
  Object.assign(process.env, env);

  const stub = options.endpoint === 'stub';
  const ddbClient = (counter: DdbCounter) =>
    stub ? stubClient(counter) : countedClient(options.endpoint, counter);
  if (!stub) {
    const admin = countedClient(options.endpoint, newCounter());
    await recreateTable(admin, ledgerTable, 'jobId');
    await recreateTable(admin, powertoolsTable, 'id');
  }

  const make = (
    name: Implementation,
    jobType: string,
    handler: (ddb: DdbCounter, sqs: { calls: number }) => Handler,
  ): Impl => {
    const ddb = newCounter();
    const sqs = { calls: 0 };
    return { name, handler: handler(ddb, sqs), ddb, sqs, jobType, finished: [], seq: 0 };
  };
  // Each of our modes gets its own container (clients, logger), as two Lambdas would.
  const ours = (ddb: DdbCounter, sqs: { calls: number }) =>
    createConsumerHandler(registry, { dynamodb: ddbClient(ddb), sqs: stubSqs(sqs) });
  const powertools = (ddb: DdbCounter): Handler => {
    const persistenceStore = new DynamoDBPersistenceLayer({
      tableName: powertoolsTable,
      awsSdkV3Client: ddbClient(ddb),
    });
    const config = new IdempotencyConfig({ eventKeyJmesPath: 'powertools_json(body).id' });
    const processor = new BatchProcessor(EventType.SQS);
    // What a Powertools user writes: parse the body, run the job.
    const recordHandler = async (record: SQSRecord) => {
      JSON.parse(record.body);
      return noop();
    };
    const idempotent = makeIdempotent(recordHandler, { persistenceStore, config });
    return async (event, context) => {
      config.registerLambdaContext(context);
      return processPartialResponse(event, idempotent, processor, { context });
    };
  };
  const impls: Impl[] = [
    make('oursStrict', 'noop-strict', ours),
    make('oursOptimistic', 'noop-optimistic', ours),
    make('powertools', 'noop', powertools),
  ];

  // Log lines are produced as in Lambda; count their bytes instead of printing them.
  let stdoutBytes = 0;
  const realWrite = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    stdoutBytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof process.stdout.write;

  const batchSize = 10;
  const buildBatch = (
    impl: Impl,
    duplicateAt: boolean[],
  ): { event: SQSEvent; ids: string[]; dups: number } => {
    const records: SQSRecord[] = [];
    const ids: string[] = [];
    let dups = 0;
    for (let i = 0; i < batchSize; i++) {
      const seq = impl.seq++;
      let id: string;
      if (duplicateAt[i] && impl.finished.length > 0) {
        // A re-delivery of a job that finished in an earlier batch (same job id, new message).
        id = impl.finished[(seq * 7919) % impl.finished.length];
        dups++;
      } else {
        id = `${impl.name}-${seq}`;
        ids.push(id);
      }
      const body = JSON.stringify(createEnvelope({ id, type: impl.jobType, payload: { n: seq } }));
      records.push(sqsRecord(`${impl.name}-m${seq}`, body));
    }
    return { event: sqsEvent(records), ids, dups };
  };

  const runBatch = async (impl: Impl, duplicateAt: boolean[]) => {
    const { event, ids, dups } = buildBatch(impl, duplicateAt);
    const context = lambdaContext(impl.name, fn.timeoutMs, fn.memoryMb);
    const t0 = performance.now();
    const response = await impl.handler(event, context);
    const ms = performance.now() - t0;
    impl.finished.push(...ids);
    return { ms, failures: response.batchItemFailures.length, dups };
  };

  const scenarios: ScenarioResult[] = [];
  try {
    log(`warm-up: ${options.warmup} batches per implementation`);
    for (let b = 0; b < options.warmup; b++) {
      for (const impl of impls) await runBatch(impl, new Array(batchSize).fill(false));
    }
    for (const rate of options.duplicateRates ?? DUPLICATE_RATES) {
      const random = seeded(Math.round(rate * 1000) + 17);
      const times = new Map<Implementation, number[]>(impls.map((i) => [i.name, []]));
      const failures = new Map<Implementation, number>(impls.map((i) => [i.name, 0]));
      const dupCount = new Map<Implementation, number>(impls.map((i) => [i.name, 0]));
      const before = new Map(
        impls.map((i) => [i.name, { ddb: snapshot(i.ddb), sqs: i.sqs.calls, bytes: 0 }]),
      );
      const bytes = new Map<Implementation, number>(impls.map((i) => [i.name, 0]));
      for (let b = 0; b < options.batches; b++) {
        const duplicateAt = Array.from({ length: batchSize }, () => random() < rate);
        // Rotate the order so no implementation always runs first (or right after GC-heavy work).
        for (let k = 0; k < impls.length; k++) {
          const impl = impls[(b + k) % impls.length];
          const bytesBefore = stdoutBytes;
          const r = await runBatch(impl, duplicateAt);
          bytes.set(impl.name, (bytes.get(impl.name) ?? 0) + stdoutBytes - bytesBefore);
          times.get(impl.name)?.push(r.ms);
          failures.set(impl.name, (failures.get(impl.name) ?? 0) + r.failures);
          dupCount.set(impl.name, (dupCount.get(impl.name) ?? 0) + r.dups);
        }
      }
      for (const impl of impls) {
        const t = times.get(impl.name) ?? [];
        const jobs = options.batches * batchSize;
        const d = diff(impl.ddb, before.get(impl.name)?.ddb ?? newCounter());
        scenarios.push({
          implementation: impl.name,
          duplicateRate: rate,
          batches: options.batches,
          jobs,
          duplicates: dupCount.get(impl.name) ?? 0,
          p50BatchMs: round(percentile(t, 50)),
          p99BatchMs: round(percentile(t, 99)),
          meanBatchMs: round(t.reduce((a, x) => a + x, 0) / t.length),
          ddbCallsPerJob: round(d.calls / jobs),
          ddbCallsByCommand: d.byCommand,
          ddbMeanMsByCommand: Object.fromEntries(
            Object.entries(d.msByCommand).map(([k, ms]) => [k, round(ms / (d.byCommand[k] ?? 1), 2)]),
          ),
          writeUnitsPerJob: round(d.writeUnits / jobs),
          readUnitsPerJob: round(d.readUnits / jobs),
          failedConditionalWritesPerJob: round(d.failedConditionalWrites / jobs),
          sqsCallsPerJob: round((impl.sqs.calls - (before.get(impl.name)?.sqs ?? 0)) / jobs),
          logBytesPerJob: round((bytes.get(impl.name) ?? 0) / jobs, 1),
          batchItemFailures: failures.get(impl.name) ?? 0,
        });
      }
      const line = scenarios
        .filter((s) => s.duplicateRate === rate)
        .map((s) => `${s.implementation} p50 ${s.p50BatchMs.toFixed(2)} ms`)
        .join(', ');
      log(`duplicates ${rate * 100}%: ${line}`);
    }
  } finally {
    process.stdout.write = realWrite;
  }
  return {
    engine: stub ? 'stub' : 'dynamodb-local',
    batchSize,
    batchesPerScenario: options.batches,
    warmupBatches: options.warmup,
    lane,
    env,
    scenarios,
  };
}
