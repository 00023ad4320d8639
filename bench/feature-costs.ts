/**
 * Part 6: what each ledger feature costs per job, in DynamoDB request units measured on DynamoDB
 * Local (ReturnConsumedCapacity, which includes the search index's writes), and what the
 * consumer's logs cost in bytes per job at each log level. ./feature-cost-table.ts turns the
 * figures into cost per million and the monthly bill at 1 M, 10 M and 100 M jobs.
 *
 * Every scenario runs the real consumer (`createConsumerHandler`) with the `high` lane's
 * environment from the synthesized example stack, on batches of 10 no-op jobs that succeed first
 * time. Scenarios: each ledger mode (strict, optimistic, none) alone (its status history is always
 * written), with the search index (the ledger table gets the GSI, the consumer JOBS_SEARCH_INDEX),
 * with a rate limit and with a concurrency limit (keys distinct within a batch, so no contention:
 * the uncontended price; a refused or contended write costs one more unit).
 *
 * Standalone: `DYNAMODB_ENDPOINT=http://127.0.0.1:8000 npx tsx bench/feature-costs.ts [--batches N]`
 * prints the figures and the table as JSON and Markdown.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { createConsumerHandler } from '../lambdas/consumer';
import { defineJob, defineRegistry } from '../lambdas/registry';
import { CONSUMER_ENV, LEDGER_ATTR, SEARCH_INDEX } from '../lambdas/shared/contract';
import { createEnvelope } from '../lambdas/shared/envelope';
import {
  type CfnTemplate,
  fixedMonthlyUSD,
  LEDGER_MODES,
  type LedgerMode,
  monitoringMonthlyUSD,
  monthlyBreakdown,
  readStackShape,
} from './cost-model';
import {
  type FeatureCostRow,
  featureCostRows,
  LEDGER_FEATURES,
  type LedgerFeature,
  renderFeatureCostTable,
  type Units,
} from './feature-cost-table';
import { consumerFunction } from './lib/consumer-env';
import { countedClient, diff, itemBytes, newCounter, snapshot } from './lib/ddb';
import { lambdaContext, sqsEvent, sqsRecord } from './lib/lambda-event';
import { round } from './lib/stats';

export interface FeatureScenario extends Units {
  readonly mode: LedgerMode;
  readonly feature: LedgerFeature;
  readonly jobs: number;
  readonly ddbCallsPerJob: number;
  readonly ddbCallsByCommand: Record<string, number>;
  /** Mean size of a finished job's ledger item (0 for `none`), and of its status history. */
  readonly itemBytes: number;
  readonly historyBytes: number;
  readonly batchItemFailures: number;
}

export interface LogBytesScenario {
  readonly logLevel: 'DEBUG' | 'INFO';
  readonly jobMetrics: boolean;
  readonly mode: LedgerMode;
  /** Bytes the consumer wrote to stdout and stderr per job (outcome lines and EMF documents). */
  readonly logBytesPerJob: number;
}

export interface FeatureCostsResult {
  readonly engine: 'dynamodb-local';
  readonly batchSize: number;
  readonly batchesPerScenario: number;
  readonly lane: string;
  readonly scenarios: FeatureScenario[];
  readonly logBytes: LogBytesScenario[];
}

type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

const schema = z.object({ n: z.number().int(), key: z.string() });
const noop = async () => undefined;
const BATCH = 10;

/** One job type per mode and feature: `<mode>-<feature>`. */
const registry = defineRegistry(
  LEDGER_MODES.flatMap((mode) =>
    LEDGER_FEATURES.map((feature) =>
      defineJob({
        type: `${mode}-${feature}`,
        idempotency: mode,
        schema,
        handler: noop,
        // Limits high enough that nothing is refused: the price of an admitted job.
        ...(feature === 'rateLimit'
          ? { rateLimit: { limit: 100_000, perSeconds: 1, key: (p: { key: string }) => p.key } }
          : {}),
        ...(feature === 'concurrencyLimit'
          ? { concurrency: { limit: 100, key: (p: { key: string }) => p.key } }
          : {}),
      }),
    ),
  ),
);

/** SQS client that answers every command locally (the no-op path makes none). */
function stubSqs(): SQSClient {
  const client = new SQSClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  client.middlewareStack.add(() => async () => ({ output: { $metadata: {} }, response: {} }), {
    step: 'initialize',
    name: 'benchSqsStub',
  });
  return client;
}

/** EventBridge client that accepts every lifecycle event locally (the example stack sends them). */
function stubEventBridge(): EventBridgeClient {
  const client = new EventBridgeClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  client.middlewareStack.add(
    () => async (args) => {
      const entries = (args.input as { Entries?: unknown[] }).Entries ?? [];
      const output = {
        $metadata: {},
        FailedEntryCount: 0,
        Entries: entries.map((_, i) => ({ EventId: `e${i}` })),
      };
      return { output, response: {} };
    },
    { step: 'initialize', name: 'benchEventBridgeStub' },
  );
  return client;
}

/** Counts what the consumer writes to stdout and stderr (Lambda ingests both) instead of printing it. */
function captureOutput(): { bytes: () => number; restore: () => void } {
  let bytes = 0;
  const streams = [process.stdout, process.stderr];
  const real = streams.map((s) => s.write.bind(s));
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      (rest.find((r) => typeof r === 'function') as (() => void) | undefined)?.();
      return true;
    }) as typeof stream.write;
  }
  return {
    bytes: () => bytes,
    restore: () => {
      streams.forEach((s, i) => {
        s.write = real[i] as typeof s.write;
      });
    },
  };
}

export async function measureFeatureCosts(options: {
  readonly endpoint: string;
  readonly template: CfnTemplate;
  readonly batches: number;
  readonly progress?: (line: string) => void;
}): Promise<FeatureCostsResult> {
  // Progress lines wait until the output capture ends (they go to stderr too).
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);
  const lane = 'high';
  const fn = consumerFunction(options.template, lane, { tableName: 'unused' });
  const { NODE_OPTIONS: _nodeOptions, ...templateEnv } = fn.env;
  const admin = countedClient(options.endpoint, newCounter());
  const plain = `bench-features-${Date.now()}`;
  const indexed = `${plain}-search`;
  await createLedgerTable(admin, plain, false);
  await createLedgerTable(admin, indexed, true);

  let seq = 0;
  const runJobs = async (handler: Handler, type: string, batches: number) => {
    const ids: string[] = [];
    let failures = 0;
    for (let b = 0; b < batches; b++) {
      const records: SQSRecord[] = [];
      for (let i = 0; i < BATCH; i++) {
        const id = `${type}-${seq++}`;
        ids.push(id);
        const body = JSON.stringify(createEnvelope({ id, type, payload: { n: seq, key: `k${i}` } }));
        records.push(sqsRecord(`m-${id}`, body));
      }
      const response = await handler(sqsEvent(records), lambdaContext(type, fn.timeoutMs, fn.memoryMb));
      failures += response.batchItemFailures.length;
    }
    return { ids, failures };
  };

  const output = captureOutput();
  const scenarios: FeatureScenario[] = [];
  const logBytes: LogBytesScenario[] = [];
  try {
    for (const mode of LEDGER_MODES) {
      for (const feature of LEDGER_FEATURES) {
        const search = feature === 'searchIndex';
        const tableName = search ? indexed : plain;
        const env = {
          ...templateEnv,
          [CONSUMER_ENV.ledgerTable]: tableName,
          ...(search ? { [CONSUMER_ENV.searchIndex]: '1' } : {}),
        };
        // Without the flag a table with the index would still be written like one without it.
        if (!search) delete (env as Record<string, string>)[CONSUMER_ENV.searchIndex];
        const counter = newCounter();
        const handler = createConsumerHandler(registry, {
          env,
          dynamodb: countedClient(options.endpoint, counter),
          sqs: stubSqs(),
          eventBridge: stubEventBridge(),
          logger: new Logger({ serviceName: 'sqs-jobs', logLevel: 'SILENT' }),
        });
        const type = `${mode}-${feature}`;
        await runJobs(handler, type, 2); // warm-up: limiter items exist, as they would in steady state
        const before = snapshot(counter);
        const { ids, failures } = await runJobs(handler, type, options.batches);
        const d = diff(counter, before);
        const jobs = ids.length;
        const sizes = await finishedItemSizes(admin, tableName, ids.slice(0, 20));
        scenarios.push({
          mode,
          feature,
          jobs,
          writeUnitsPerJob: round(d.writeUnits / jobs, 3),
          readUnitsPerJob: round(d.readUnits / jobs, 3),
          ddbCallsPerJob: round(d.calls / jobs, 3),
          ddbCallsByCommand: d.byCommand,
          itemBytes: sizes.item,
          historyBytes: sizes.history,
          batchItemFailures: failures,
        });
        log(
          `${type}: ${round(d.writeUnits / jobs, 2)} write + ${round(d.readUnits / jobs, 2)} read units/job, item ${sizes.item} B`,
        );
      }
    }
    // Log bytes: the example stack's consumer logger and metrics, at DEBUG (every outcome line,
    // as before consumerLogLevel) and INFO (the default), with and without job metrics (lean).
    for (const mode of ['strict', 'optimistic'] as const) {
      for (const [logLevel, jobMetrics] of [
        ['DEBUG', true],
        ['INFO', true],
        ['INFO', false],
      ] as const) {
        const saved = { ...process.env };
        Object.assign(process.env, templateEnv, { POWERTOOLS_LOG_LEVEL: logLevel });
        if (jobMetrics) delete process.env.POWERTOOLS_METRICS_DISABLED;
        else process.env.POWERTOOLS_METRICS_DISABLED = 'true';
        try {
          const handler = createConsumerHandler(registry, {
            env: { ...templateEnv, [CONSUMER_ENV.ledgerTable]: plain },
            dynamodb: countedClient(options.endpoint, newCounter()),
            sqs: stubSqs(),
            eventBridge: stubEventBridge(),
          });
          const type = `${mode}-base`;
          await runJobs(handler, type, 2);
          const bytesBefore = output.bytes();
          const { ids } = await runJobs(handler, type, Math.min(options.batches, 20));
          logBytes.push({
            logLevel,
            jobMetrics,
            mode,
            logBytesPerJob: round((output.bytes() - bytesBefore) / ids.length, 1),
          });
        } finally {
          process.env = saved;
        }
      }
    }
  } finally {
    output.restore();
  }
  for (const l of logBytes)
    log(`log bytes ${l.mode} ${l.logLevel}${l.jobMetrics ? '' : ' no metrics'}: ${l.logBytesPerJob}/job`);
  for (const line of lines) options.progress?.(line);
  return {
    engine: 'dynamodb-local',
    batchSize: BATCH,
    batchesPerScenario: options.batches,
    lane,
    scenarios,
    logBytes,
  };
}

async function createLedgerTable(
  client: ReturnType<typeof countedClient>,
  name: string,
  search: boolean,
): Promise<void> {
  const { CreateTableCommand } = await import('@aws-sdk/client-dynamodb');
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: LEDGER_ATTR.jobId, KeyType: 'HASH' }],
      AttributeDefinitions: [
        { AttributeName: LEDGER_ATTR.jobId, AttributeType: 'S' },
        ...(search
          ? [
              { AttributeName: SEARCH_INDEX.partitionKey, AttributeType: 'S' as const },
              { AttributeName: SEARCH_INDEX.sortKey, AttributeType: 'S' as const },
            ]
          : []),
      ],
      // The index exactly as JOB_SEARCH_INDEX defines it (INCLUDE projection of SEARCH_INDEX.projected).
      ...(search
        ? {
            GlobalSecondaryIndexes: [
              {
                IndexName: SEARCH_INDEX.name,
                KeySchema: [
                  { AttributeName: SEARCH_INDEX.partitionKey, KeyType: 'HASH' as const },
                  { AttributeName: SEARCH_INDEX.sortKey, KeyType: 'RANGE' as const },
                ],
                Projection: {
                  ProjectionType: 'INCLUDE' as const,
                  NonKeyAttributes: [...SEARCH_INDEX.projected],
                },
              },
            ],
          }
        : {}),
    }),
  );
}

/** Mean size of the finished jobs' ledger items and of their history attribute (0 when absent). */
async function finishedItemSizes(
  client: ReturnType<typeof countedClient>,
  tableName: string,
  ids: readonly string[],
): Promise<{ item: number; history: number }> {
  let item = 0;
  let history = 0;
  for (const id of ids) {
    const out = await client.send(
      new GetItemCommand({
        TableName: tableName,
        Key: { [LEDGER_ATTR.jobId]: { S: id } },
        ConsistentRead: true,
      }),
    );
    item += itemBytes(out.Item);
    const h = out.Item?.[LEDGER_ATTR.history];
    history += h ? itemBytes({ [LEDGER_ATTR.history]: h }) : 0;
  }
  return { item: Math.round(item / ids.length), history: Math.round(history / ids.length) };
}

/** What the bench reports from part 6: the table, the monitoring bills and the log figures. */
export interface FeatureCostFigures {
  readonly lane: string;
  /** Log bytes per job the table uses: strict at the full stack's log level, with its job metrics. */
  readonly logBytesPerJob: number;
  readonly monitoringMonthlyUSD: { readonly full: number; readonly lean: number };
  readonly fixedMonthlyUSD: { readonly full: number; readonly lean: number };
  readonly alarms: { readonly full: number; readonly lean: number };
  readonly rows: FeatureCostRow[];
  readonly markdown: string[];
}

/**
 * The table over the measured units, with the fixed monthly costs of the example stack under
 * each monitoring profile (`full` and `lean` templates) at `jobTypes` registry job types.
 */
export function featureCostFigures(
  measured: FeatureCostsResult,
  templates: { readonly full: CfnTemplate; readonly lean: CfnTemplate },
  jobTypes: number | undefined,
): FeatureCostFigures {
  const full = readStackShape(templates.full);
  const lean = readStackShape(templates.lean);
  const lane = full.lanes.find((l) => l.name === measured.lane) ?? full.lanes[0];
  const bill = (shape: typeof full) =>
    monthlyBreakdown(shape, { jobsPerMonth: 1e6, mode: 'strict', lane: lane.name, jobTypes });
  const fullBill = bill(full);
  const leanBill = bill(lean);
  const at = (mode: LedgerMode, feature: LedgerFeature) =>
    measured.scenarios.find((s) => s.mode === mode && s.feature === feature);
  const units = Object.fromEntries(
    LEDGER_MODES.map((mode) => [
      mode,
      Object.fromEntries(
        LEDGER_FEATURES.map((feature) => {
          const s = at(mode, feature);
          return [
            feature,
            { writeUnitsPerJob: s?.writeUnitsPerJob ?? 0, readUnitsPerJob: s?.readUnitsPerJob ?? 0 },
          ];
        }),
      ),
    ]),
  ) as Record<LedgerMode, Record<LedgerFeature, Units>>;
  const logBytesPerJob =
    measured.logBytes.find(
      (l) => l.mode === 'strict' && l.logLevel === full.consumerLogLevel && l.jobMetrics === full.jobMetrics,
    )?.logBytesPerJob ?? 0;
  const fixed = { full: fixedMonthlyUSD(fullBill), lean: fixedMonthlyUSD(leanBill) };
  const rows = featureCostRows({
    lane,
    units,
    itemBytes: Object.fromEntries(LEDGER_MODES.map((m) => [m, at(m, 'base')?.itemBytes ?? 0])) as Record<
      LedgerMode,
      number
    >,
    logBytesPerJob,
    fixedMonthlyUSD: fixed,
    ttlSeconds: full.ledger?.ttlSeconds,
    pitr: full.ledger?.pitr,
  });
  return {
    lane: lane.name,
    logBytesPerJob,
    monitoringMonthlyUSD: { full: monitoringMonthlyUSD(fullBill), lean: monitoringMonthlyUSD(leanBill) },
    fixedMonthlyUSD: fixed,
    alarms: { full: full.alarms, lean: lean.alarms },
    rows,
    markdown: renderFeatureCostTable(rows),
  };
}

async function main(): Promise<void> {
  const endpoint = process.env.DYNAMODB_ENDPOINT;
  if (!endpoint) throw new Error('set DYNAMODB_ENDPOINT (bash scripts/dynamodb-local.sh start <port>)');
  const i = process.argv.indexOf('--batches');
  const batches = i > 0 ? Number(process.argv[i + 1]) : 20;
  const progress = (line: string) => process.stderr.write(`[feature-costs] ${line}\n`);
  const path = await import('node:path');
  const { synthExampleTemplate } = await import('./lib/synth');
  const { WORK_DIR } = await import('./lib/paths');
  const { registryModes } = await import('./cost');
  progress('synthesizing the example stack, full and lean monitoring ...');
  const full = synthExampleTemplate(path.join(WORK_DIR, 'cdk.out'));
  const lean = synthExampleTemplate(path.join(WORK_DIR, 'cdk.out.lean'), { monitoringProfile: 'lean' });
  const measured = await measureFeatureCosts({ endpoint, template: full, batches, progress });
  const modes = await registryModes(path.join(__dirname, '..', 'bin', 'jobs.ts'));
  const figures = featureCostFigures(measured, { full, lean }, modes ? Object.keys(modes).length : undefined);
  const { markdown, ...rest } = figures;
  process.stdout.write(`${JSON.stringify({ measured, figures: rest }, null, 2)}\n\n${markdown.join('\n')}\n`);
}

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`[feature-costs] ${(error as Error).stack ?? error}\n`);
    process.exit(1);
  });
}
