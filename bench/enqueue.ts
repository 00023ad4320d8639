/**
 * Part 4: enqueue. Requests per job and jobs per second for `JobClient.enqueueBatch` against
 * `enqueue` one job at a time (awaited in turn, and 10 in flight), unkeyed and keyed (a keyed job
 * also writes its ledger item on DynamoDB Local). SQS is a queue on LocalStack when one answers,
 * else a local stub that answers at once (then jobs/s measures the client alone; the results say
 * which). Every SQS and DynamoDB request is counted by a client middleware.
 */
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  PurgeQueueCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { JobClient } from '../lambdas/client';
import type { JobQueueConfig } from '../lambdas/shared/contract';
import { countedClient, newCounter, recreateTable } from './lib/ddb';
import { median, round } from './lib/stats';

export const ENQUEUE_MODES = ['single', 'single10', 'batch'] as const;
export type EnqueueMode = (typeof ENQUEUE_MODES)[number];

export interface EnqueueScenario {
  readonly mode: EnqueueMode;
  readonly keyed: boolean;
  readonly jobs: number;
  readonly sqsRequestsPerJob: number;
  readonly ddbRequestsPerJob: number;
  readonly jobsPerSecond: number;
  readonly failed: number;
}

export interface EnqueueResult {
  readonly sqs: 'localstack' | 'stub';
  readonly sqsEndpoint?: string;
  readonly jobsPerRun: number;
  readonly repetitions: number;
  readonly scenarios: EnqueueScenario[];
  /** Jobs the client reported enqueued, and the messages the queue holds at the end (should match). */
  readonly enqueued: number;
  readonly messagesOnQueue?: number;
}

function sqsClient(endpoint: string | undefined, counter: { calls: number }): SQSClient {
  const client = new SQSClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    ...(endpoint ? { endpoint } : {}),
  });
  client.middlewareStack.add(
    (next) => async (args) => {
      counter.calls++;
      if (endpoint) return next(args);
      // Stub: answer as SQS would, without a network call.
      const input = args.input as { Entries?: { Id: string }[] };
      const output = input.Entries
        ? { Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}` })), Failed: [] }
        : { MessageId: 'm' };
      return { output: { ...output, $metadata: {} }, response: {} };
    },
    { step: 'initialize', name: 'benchSqsCounter' },
  );
  return client;
}

export async function localstackEndpoint(): Promise<string | undefined> {
  const endpoint = process.env.LOCALSTACK_ENDPOINT ?? 'http://127.0.0.1:4566';
  try {
    const res = await fetch(`${endpoint}/_localstack/health`, { signal: AbortSignal.timeout(2000) });
    const health = (await res.json()) as { services?: Record<string, string> };
    const sqs = health.services?.sqs;
    return sqs === 'running' || sqs === 'available' ? endpoint : undefined;
  } catch {
    return undefined;
  }
}

export async function measureEnqueue(options: {
  readonly ddbEndpoint: string;
  readonly jobs: number;
  readonly repetitions: number;
  readonly progress?: (line: string) => void;
}): Promise<EnqueueResult> {
  const log = options.progress ?? (() => undefined);
  const endpoint = await localstackEndpoint();
  const sqsCounter = { calls: 0 };
  const sqs = sqsClient(endpoint, sqsCounter);
  const ddbCounter = newCounter();
  const ddb = countedClient(options.ddbEndpoint, ddbCounter);
  const table = 'bench-enqueue-ledger';
  await recreateTable(ddb, table, 'jobId');

  let queueUrl = 'https://sqs.us-east-1.amazonaws.com/123456789012/bench-enqueue';
  if (endpoint) {
    const created = await sqs.send(
      new CreateQueueCommand({ QueueName: `sqs-jobs-bench-enqueue-${process.pid}` }),
    );
    queueUrl = created.QueueUrl ?? queueUrl;
    log(`SQS: LocalStack queue ${queueUrl}`);
  } else {
    log('SQS: no LocalStack answers; using a local stub (jobs/s then measures the client alone)');
  }
  const config: JobQueueConfig = {
    version: 1,
    tableName: table,
    defaultLane: 'default',
    lanes: {
      default: {
        queueUrl,
        queueArn: 'arn:aws:sqs:us-east-1:000000000000:bench-enqueue',
        dlqUrl: `${queueUrl}-dlq`,
        dlqArn: 'arn:aws:sqs:us-east-1:000000000000:bench-enqueue-dlq',
        fifo: false,
        maxAttempts: 4,
        functionName: 'bench',
      },
    },
    scheduleGroup: 'bench',
    schedulerRoleArn: 'arn:aws:iam::000000000000:role/bench',
    scheduleDlqArn: '',
    alarmTopicArn: '',
  };
  const client = JobClient.fromConfig(config, { sqs, dynamodb: ddb });

  const runs = new Map<string, { rates: number[]; sqs: number; ddb: number; jobs: number; failed: number }>();
  let seq = 0;
  let enqueued = 0;
  try {
    for (let rep = 0; rep < options.repetitions; rep++) {
      for (const keyed of [false, true]) {
        for (let k = 0; k < ENQUEUE_MODES.length; k++) {
          const mode = ENQUEUE_MODES[(rep + k) % ENQUEUE_MODES.length];
          const items = Array.from({ length: options.jobs }, () => {
            const n = seq++;
            return {
              type: 'bench-job',
              payload: { n, text: 'x'.repeat(200) },
              options: keyed ? { idempotencyKey: `key-${n}` } : {},
            };
          });
          const sqs0 = sqsCounter.calls;
          const ddb0 = ddbCounter.calls;
          let failed = 0;
          const t0 = performance.now();
          if (mode === 'batch') {
            const results = await client.enqueueBatch(items);
            failed = results.filter((r) => !r.ok).length;
          } else {
            const inFlight = mode === 'single10' ? 10 : 1;
            for (let i = 0; i < items.length; i += inFlight) {
              const group = items.slice(i, i + inFlight);
              const settled = await Promise.allSettled(
                group.map((item) => client.enqueue(item.type, item.payload, item.options)),
              );
              failed += settled.filter((s) => s.status === 'rejected').length;
            }
          }
          const seconds = (performance.now() - t0) / 1000;
          enqueued += options.jobs - failed;
          const key = `${mode}/${keyed}`;
          const run = runs.get(key) ?? { rates: [], sqs: 0, ddb: 0, jobs: 0, failed: 0 };
          run.rates.push(options.jobs / seconds);
          run.sqs += sqsCounter.calls - sqs0;
          run.ddb += ddbCounter.calls - ddb0;
          run.jobs += options.jobs;
          run.failed += failed;
          runs.set(key, run);
        }
      }
      log(`enqueue: repetition ${rep + 1}/${options.repetitions}`);
    }
    let messagesOnQueue: number | undefined;
    if (endpoint) {
      const attrs = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages'],
        }),
      );
      messagesOnQueue = Number(attrs.Attributes?.ApproximateNumberOfMessages ?? Number.NaN);
    }
    const scenarios: EnqueueScenario[] = [];
    for (const keyed of [false, true]) {
      for (const mode of ENQUEUE_MODES) {
        const run = runs.get(`${mode}/${keyed}`);
        if (!run) continue;
        scenarios.push({
          mode,
          keyed,
          jobs: run.jobs,
          sqsRequestsPerJob: round(run.sqs / run.jobs),
          ddbRequestsPerJob: round(run.ddb / run.jobs),
          jobsPerSecond: round(median(run.rates), 1),
          failed: run.failed,
        });
      }
    }
    return {
      sqs: endpoint ? 'localstack' : 'stub',
      sqsEndpoint: endpoint,
      jobsPerRun: options.jobs,
      repetitions: options.repetitions,
      scenarios,
      enqueued,
      messagesOnQueue,
    };
  } finally {
    if (endpoint) {
      await sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl })).catch(() => undefined);
      await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => undefined);
    }
  }
}
