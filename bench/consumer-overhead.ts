/**
 * Part 1: consumer overhead per job, ours against Powertools idempotency + batch, on the same
 * DynamoDB engine (DynamoDB Local), with the same batches of 10 no-op jobs and the same duplicate
 * pattern (0 %, 1 %, 10 % of messages re-deliver a job that already finished).
 *
 * - ours: `createConsumerHandler(registry)` with the `high` lane's environment from the synthesized
 *   example stack, less the two features the example opts into and Powertools does not do (the
 *   search index and lifecycle events: `defaultLaneEnv`, as a default `JobQueue` lane has it; part
 *   6 prices them); one no-op job type per ledger mode (strict, optimistic).
 * - Powertools: `processPartialResponse` + `BatchProcessor(SQS)` around a record handler wrapped by
 *   `makeIdempotent` with the `DynamoDBPersistenceLayer`, keyed on the job id in the body
 *   (`powertools_json(body).id`), so a re-delivered job is a duplicate for both. Its client has the SDK's defaults, as
 *   `makeIdempotent` builds one when given none; ours has the runtime's (SDK_CLIENT_DEFAULTS).
 * - Powertools on our client settings (`powertoolsSameClient`): the same, its client built with the
 *   runtime's SDK_CLIENT_DEFAULTS as ours is, so the client's share of the difference shows.
 *
 * Batches of the implementations are interleaved (rotating order) so machine noise hits all
 * alike. SQS calls the consumers would make (visibility changes, DLQ sends; none on this no-op
 * path) and EventBridge calls (none with lifecycle events off) go to stub middlewares that answer
 * without a network call and count them. Log lines
 * are serialized as in Lambda but written to a byte counter instead of the terminal.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBClient, DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { createConsumerHandler } from '../lambdas/consumer';
import { defineJob, defineRegistry } from '../lambdas/registry';
import { createEnvelope } from '../lambdas/shared/envelope';
import { SDK_CLIENT_DEFAULTS } from '../lambdas/shared/sdk-clients';
import type { CfnTemplate } from './cost-model';
import { consumerFunction, defaultLaneEnv } from './lib/consumer-env';
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
import { median, percentile, round, seeded } from './lib/stats';

export const DUPLICATE_RATES = [0, 0.01, 0.1] as const;
export const IMPLEMENTATIONS = [
  'oursStrict',
  'oursOptimistic',
  'powertools',
  'powertoolsSameClient',
] as const;
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
  /** Node CPU (user + system, `process.cpuUsage`) spent inside this consumer's batches, per job. */
  readonly cpuMsPerJob: number;
  readonly ddbCallsPerJob: number;
  readonly ddbCallsByCommand: Record<string, number>;
  /** Mean client-side latency per DynamoDB command, ms. */
  readonly ddbMeanMsByCommand: Record<string, number>;
  readonly writeUnitsPerJob: number;
  readonly readUnitsPerJob: number;
  /** Of the write units, those estimated for failed conditional writes (DynamoDB Local reports none). */
  readonly failedConditionalWritesPerJob: number;
  readonly sqsCallsPerJob: number;
  /** EventBridge PutEvents calls (lifecycle events), answered by a stub. */
  readonly eventCallsPerJob: number;
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
  /**
   * With several runs (`measureConsumerOverheadRuns`): each run's ratios against Powertools per
   * duplicate rate; `scenarios` then holds the median over the runs of each figure, and the ratios
   * reported are the medians of these per-run ratios (`medianRatios`).
   */
  readonly runs?: readonly RunRatios[];
}

export interface RunRatios {
  readonly duplicateRate: number;
  /** p50 per batch / Powertools' p50, strict and optimistic. */
  readonly strictP50Ratio: number;
  readonly optimisticP50Ratio: number;
  /** CPU ms per job / Powertools' CPU ms per job. */
  readonly strictCpuRatio: number;
  readonly optimisticCpuRatio: number;
  /** Strict p50 / p50 of Powertools on a client with our settings (`powertoolsSameClient`). */
  readonly strictP50RatioSameClient: number;
  readonly strictCpuRatioSameClient: number;
  /** Powertools on our client settings / on the SDK's defaults: what the client setting alone is worth. */
  readonly powertoolsSameClientP50Ratio: number;
  readonly powertoolsSameClientCpuRatio: number;
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

/** EventBridge client that answers every command locally (and counts them). */
function stubEvents(counter: { calls: number }): EventBridgeClient {
  const client = new EventBridgeClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  client.middlewareStack.add(
    () => async () => {
      counter.calls++;
      return { output: { $metadata: {}, FailedEntryCount: 0 }, response: {} };
    },
    { step: 'initialize', name: 'benchEventsStub' },
  );
  return client;
}

export type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

interface Impl {
  readonly name: Implementation;
  readonly handler: Handler;
  readonly ddb: DdbCounter;
  readonly sqs: { calls: number };
  readonly events: { calls: number };
  readonly jobType: string;
  readonly finished: string[];
  seq: number;
}

/** Our consumer as the bench runs it: SQS and EventBridge stubbed (and counted). */
export function oursConsumer(
  dynamodb: DynamoDBClient,
  sqs: { calls: number },
  events: { calls: number },
): Handler {
  return createConsumerHandler(registry, {
    dynamodb,
    sqs: stubSqs(sqs),
    eventBridge: stubEvents(events),
  });
}

/** What a Powertools user writes: idempotency (DynamoDB) around a record handler, in a batch processor. */
export function powertoolsConsumer(dynamodb: DynamoDBClient, tableName: string): Handler {
  const persistenceStore = new DynamoDBPersistenceLayer({ tableName, awsSdkV3Client: dynamodb });
  const config = new IdempotencyConfig({ eventKeyJmesPath: 'powertools_json(body).id' });
  const processor = new BatchProcessor(EventType.SQS);
  // Parse the body, run the job.
  const recordHandler = async (record: SQSRecord) => {
    JSON.parse(record.body);
    return noop();
  };
  const idempotent = makeIdempotent(recordHandler, { persistenceStore, config });
  return async (event, context) => {
    config.registerLambdaContext(context);
    return processPartialResponse(event, idempotent, processor, { context });
  };
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
  Object.assign(process.env, defaultLaneEnv(env));

  const stub = options.endpoint === 'stub';
  if (!stub) {
    const admin = countedClient(options.endpoint, newCounter());
    await recreateTable(admin, ledgerTable, 'jobId');
    await recreateTable(admin, powertoolsTable, 'id');
  }

  const make = (
    name: Implementation,
    jobType: string,
    handler: (ddb: DdbCounter, sqs: { calls: number }, events: { calls: number }) => Handler,
  ): Impl => {
    const ddb = newCounter();
    const sqs = { calls: 0 };
    const events = { calls: 0 };
    return { name, handler: handler(ddb, sqs, events), ddb, sqs, events, jobType, finished: [], seq: 0 };
  };
  // Each of our modes gets its own container (clients, logger), as two Lambdas would.
  // Each consumer with the DynamoDB client it is deployed with: ours with the runtime's client
  // settings (SDK_CLIENT_DEFAULTS), Powertools with the SDK's defaults (what `makeIdempotent` builds
  // when given no client). `powertoolsSameClient` runs Powertools with our settings too, so the
  // share of the difference that is the client's and the share that is the consumer's both show.
  const ddbClient = (counter: DdbCounter, config: DynamoDBClientConfig = {}) =>
    stub ? stubClient(counter) : countedClient(options.endpoint, counter, config);
  const ours = (ddb: DdbCounter, sqs: { calls: number }, events: { calls: number }) =>
    oursConsumer(ddbClient(ddb, SDK_CLIENT_DEFAULTS), sqs, events);
  const powertools = (ddb: DdbCounter): Handler => powertoolsConsumer(ddbClient(ddb), powertoolsTable);
  const powertoolsSameClient = (ddb: DdbCounter): Handler =>
    powertoolsConsumer(ddbClient(ddb, SDK_CLIENT_DEFAULTS), powertoolsTable);
  const impls: Impl[] = [
    make('oursStrict', 'noop-strict', ours),
    make('oursOptimistic', 'noop-optimistic', ours),
    make('powertools', 'noop', powertools),
    make('powertoolsSameClient', 'noop', powertoolsSameClient),
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
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const response = await impl.handler(event, context);
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    impl.finished.push(...ids);
    return { ms, cpuMs: (cpu.user + cpu.system) / 1000, failures: response.batchItemFailures.length, dups };
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
      const cpuMs = new Map<Implementation, number>(impls.map((i) => [i.name, 0]));
      const failures = new Map<Implementation, number>(impls.map((i) => [i.name, 0]));
      const dupCount = new Map<Implementation, number>(impls.map((i) => [i.name, 0]));
      const before = new Map(
        impls.map((i) => [
          i.name,
          { ddb: snapshot(i.ddb), sqs: i.sqs.calls, events: i.events.calls, bytes: 0 },
        ]),
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
          cpuMs.set(impl.name, (cpuMs.get(impl.name) ?? 0) + r.cpuMs);
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
          cpuMsPerJob: round((cpuMs.get(impl.name) ?? 0) / jobs, 4),
          ddbCallsPerJob: round(d.calls / jobs),
          ddbCallsByCommand: d.byCommand,
          ddbMeanMsByCommand: Object.fromEntries(
            Object.entries(d.msByCommand).map(([k, ms]) => [k, round(ms / (d.byCommand[k] ?? 1), 2)]),
          ),
          writeUnitsPerJob: round(d.writeUnits / jobs),
          readUnitsPerJob: round(d.readUnits / jobs),
          failedConditionalWritesPerJob: round(d.failedConditionalWrites / jobs),
          sqsCallsPerJob: round((impl.sqs.calls - (before.get(impl.name)?.sqs ?? 0)) / jobs),
          eventCallsPerJob: round((impl.events.calls - (before.get(impl.name)?.events ?? 0)) / jobs),
          logBytesPerJob: round((bytes.get(impl.name) ?? 0) / jobs, 1),
          batchItemFailures: failures.get(impl.name) ?? 0,
        });
      }
      const line = scenarios
        .filter((s) => s.duplicateRate === rate)
        .map(
          (s) =>
            `${s.implementation} p50 ${s.p50BatchMs.toFixed(2)} ms, cpu ${s.cpuMsPerJob.toFixed(3)} ms/job`,
        )
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

/**
 * Part 1 `runs` times in this process (fresh tables and consumers each time). Each row's figures
 * are the median over the runs, so one lucky (or unlucky) run on a noisy machine decides nothing;
 * `runs` keeps every run's ratios against Powertools.
 */
export async function measureConsumerOverheadRuns(
  options: Parameters<typeof measureConsumerOverhead>[0] & { readonly runs: number },
): Promise<ConsumerOverheadResult> {
  const log = options.progress ?? (() => undefined);
  const results: ConsumerOverheadResult[] = [];
  for (let run = 1; run <= options.runs; run++) {
    log(`run ${run} of ${options.runs}`);
    results.push(await measureConsumerOverhead(options));
  }
  const runs = results.flatMap(runRatios);
  for (const r of runs) {
    log(
      `ratios vs Powertools at ${r.duplicateRate * 100}% duplicates: p50 strict ${r.strictP50Ratio.toFixed(3)}, optimistic ${r.optimisticP50Ratio.toFixed(3)}; cpu/job strict ${r.strictCpuRatio.toFixed(3)}, optimistic ${r.optimisticCpuRatio.toFixed(3)}`,
    );
  }
  const first = results[0];
  const scenarios = first.scenarios.map((s) => {
    const same = results.map(
      (r) =>
        r.scenarios.find(
          (x) => x.implementation === s.implementation && x.duplicateRate === s.duplicateRate,
        ) as ScenarioResult,
    );
    const med = (pick: (x: ScenarioResult) => number, digits = 3) => round(median(same.map(pick)), digits);
    return {
      ...s,
      p50BatchMs: med((x) => x.p50BatchMs),
      p99BatchMs: med((x) => x.p99BatchMs),
      meanBatchMs: med((x) => x.meanBatchMs),
      cpuMsPerJob: med((x) => x.cpuMsPerJob, 4),
    };
  });
  return { ...first, scenarios, runs };
}

/**
 * Per duplicate rate, the median over the runs of each run's ratios against Powertools: the ratio
 * is taken within a run (the consumers interleaved batch by batch on the same engine), so
 * drift between runs (JIT, table size, machine load) cancels out instead of being divided in.
 * Without `runs` (one run), that run's ratios.
 */
export function medianRatios(r: ConsumerOverheadResult): RunRatios[] {
  const runs = r.runs && r.runs.length > 0 ? r.runs : runRatios(r);
  const rates = [...new Set(runs.map((x) => x.duplicateRate))];
  return rates.map((rate) => {
    const same = runs.filter((x) => x.duplicateRate === rate);
    const med = (pick: (x: RunRatios) => number) => round(median(same.map(pick)));
    return {
      duplicateRate: rate,
      strictP50Ratio: med((x) => x.strictP50Ratio),
      optimisticP50Ratio: med((x) => x.optimisticP50Ratio),
      strictCpuRatio: med((x) => x.strictCpuRatio),
      optimisticCpuRatio: med((x) => x.optimisticCpuRatio),
      strictP50RatioSameClient: med((x) => x.strictP50RatioSameClient),
      strictCpuRatioSameClient: med((x) => x.strictCpuRatioSameClient),
      powertoolsSameClientP50Ratio: med((x) => x.powertoolsSameClientP50Ratio),
      powertoolsSameClientCpuRatio: med((x) => x.powertoolsSameClientCpuRatio),
    };
  });
}

/**
 * The headline overhead ratio: strict (like for like with Powertools, two writes per job), the
 * worst duplicate-rate row of `medianRatios`, so the goal holds in every row, not on average.
 */
export function overheadRatio(
  r: ConsumerOverheadResult,
  pick: (row: RunRatios) => number = (row) => row.strictP50Ratio,
): { readonly value: number; readonly duplicateRate: number } {
  const rows = medianRatios(r);
  const worst = rows.reduce((a, b) => (pick(b) > pick(a) ? b : a), rows[0]);
  return { value: worst ? pick(worst) : Number.NaN, duplicateRate: worst?.duplicateRate ?? Number.NaN };
}

function runRatios(r: ConsumerOverheadResult): RunRatios[] {
  const rates = [...new Set(r.scenarios.map((s) => s.duplicateRate))];
  return rates.map((rate) => {
    const get = (impl: Implementation) =>
      r.scenarios.find((s) => s.implementation === impl && s.duplicateRate === rate);
    const ratio = (
      impl: Implementation,
      pick: (s: ScenarioResult) => number,
      base: Implementation = 'powertools',
    ) => {
      const s = get(impl);
      const b = get(base);
      return s && b ? round(pick(s) / pick(b)) : Number.NaN;
    };
    return {
      duplicateRate: rate,
      strictP50Ratio: ratio('oursStrict', (s) => s.p50BatchMs),
      optimisticP50Ratio: ratio('oursOptimistic', (s) => s.p50BatchMs),
      strictCpuRatio: ratio('oursStrict', (s) => s.cpuMsPerJob),
      optimisticCpuRatio: ratio('oursOptimistic', (s) => s.cpuMsPerJob),
      strictP50RatioSameClient: ratio('oursStrict', (s) => s.p50BatchMs, 'powertoolsSameClient'),
      strictCpuRatioSameClient: ratio('oursStrict', (s) => s.cpuMsPerJob, 'powertoolsSameClient'),
      powertoolsSameClientP50Ratio: ratio('powertoolsSameClient', (s) => s.p50BatchMs),
      powertoolsSameClientCpuRatio: ratio('powertoolsSameClient', (s) => s.cpuMsPerJob),
    };
  });
}
