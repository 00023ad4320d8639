/**
 * Part 3: end to end on LocalStack. Jobs per second through the deployed example stack (SQS event
 * source → consumer Lambda → ledger on LocalStack's DynamoDB → delete) against a bare
 * ReceiveMessage → DeleteMessageBatch loop on the same queue, in the same run.
 *
 * LocalStack and the stack come from scripts/local (localstack.ts, deployed-stack.ts: deployed with
 * cdklocal under its own stack name, so the bench never disturbs a test run's stack). To time the drain alone, the lane's
 * event source mapping is disabled while the jobs are sent, then enabled: the clock runs from
 * the enable call until the lane queue is empty, and every job is then checked SUCCEEDED in the
 * ledger. The bare loop (one worker, like one event source poller) drains the same number of
 * messages from the same queue with the mapping disabled. The mapping is left enabled.
 */
import { BatchGetItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  GetEventSourceMappingCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { LaneConfig } from '../lambdas/shared/contract';
import type { DeployedStack } from '../scripts/local/deployed-stack';
import type { LocalstackLease } from '../scripts/local/localstack';
import { round } from './lib/stats';

export interface E2eResult {
  readonly measured: boolean;
  readonly reason?: string;
  readonly endpoint?: string;
  readonly stackName?: string;
  readonly lane?: string;
  readonly jobs?: number;
  readonly rounds?: number;
  readonly stackJobsPerSecond?: number;
  readonly rawJobsPerSecond?: number;
  readonly ratio?: number;
  readonly perRound?: { stack: number; raw: number }[];
  readonly deploySeconds?: number;
}

/** One line saying why: for a failed deploy, the resource CloudFormation says failed. */
function explain(error: unknown): string {
  const message = (error as Error).message ?? String(error);
  const failed = message
    .split('\n')
    .filter((line) => /_FAILED/.test(line) && !/AWS::CloudFormation::Stack/.test(line))
    .pop();
  if (failed) {
    const resource = failed.split('|').slice(4).join('|').replace(/\s+/g, ' ').trim();
    return `the example stack did not deploy on LocalStack (cdklocal via scripts/local/deployed-stack.ts): ${resource}`.slice(
      0,
      400,
    );
  }
  return message.split('\n')[0].slice(0, 400);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${Math.round(ms / 1000)} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface E2eOptions {
  readonly jobs: number;
  readonly rounds: number;
  readonly deployTimeoutMs: number;
  readonly drainTimeoutMs: number;
  readonly progress?: (line: string) => void;
}

type Log = (line: string) => void;

/** The scripts/local helpers, loaded when the part runs (a missing one makes the part unmeasured). */
interface LocalHelpers {
  readonly localstack: typeof import('../scripts/local/localstack');
  readonly deployed: typeof import('../scripts/local/deployed-stack');
}

export async function measureE2e(options: E2eOptions): Promise<E2eResult> {
  const log = options.progress ?? (() => undefined);
  const helpers = await loadHelpers();
  if (typeof helpers === 'string') return { measured: false, reason: helpers };
  const localstack = await startLocalstack(helpers, log);
  if (typeof localstack === 'string') return { measured: false, reason: localstack };
  const endpoint = localstack.endpoint;
  const stackName = process.env.BENCH_STACK ?? 'SqsJobsBench';
  try {
    const { stack, deploySeconds } = await deploy(helpers, stackName, options.deployTimeoutMs, log);
    const rig = await laneRig(stack, LANE, options.drainTimeoutMs);
    if (typeof rig === 'string') return { measured: false, reason: rig };
    await warmUp(rig, log);
    const perRound = await measureRounds(rig, options, log);
    await setMapping(rig, true);
    return summarize(perRound, {
      endpoint,
      stackName,
      jobs: options.jobs,
      rounds: options.rounds,
      deploySeconds,
    });
  } catch (error) {
    return { measured: false, endpoint, stackName, reason: explain(error) };
  } finally {
    await localstack.release().catch(() => undefined);
  }
}

/** The lane the part measures. */
const LANE = 'high';

/** The helpers, or why they could not be loaded. */
async function loadHelpers(): Promise<LocalHelpers | string> {
  try {
    return {
      localstack: await import('../scripts/local/localstack'),
      deployed: await import('../scripts/local/deployed-stack'),
    };
  } catch (error) {
    return `LocalStack helpers not available (${(error as Error).message})`;
  }
}

/**
 * The integ tests' lease protocol (scripts/local/localstack.ts): reuse a running LocalStack (or
 * start one with up.sh), hold a lease while measuring, and stop it afterwards only if this run
 * started it and no concurrent test run still holds a lease. Returns the lease, or why not.
 */
async function startLocalstack(helpers: LocalHelpers, log: Log): Promise<LocalstackLease | string> {
  try {
    log('LocalStack: up.sh (reuses one that answers) ...');
    return await withTimeout(helpers.localstack.useLocalstack(), 300_000, 'LocalStack start');
  } catch (error) {
    return `LocalStack did not start: ${(error as Error).message.split('\n')[0]}`;
  }
}

async function deploy(
  helpers: LocalHelpers,
  stackName: string,
  timeoutMs: number,
  log: Log,
): Promise<{ stack: DeployedStack; deploySeconds: number }> {
  log(`deploying the example stack as ${stackName} with cdklocal (scripts/local/deployed-stack.ts) ...`);
  const t0 = performance.now();
  const stack = await withTimeout(helpers.deployed.deployedStack(stackName), timeoutMs, 'deploy');
  const deploySeconds = round((performance.now() - t0) / 1000, 1);
  log(`deployed in ${deploySeconds} s`);
  return { stack, deploySeconds };
}

/** What the rounds work with: one lane of the deployed stack, its event source mapping and clients. */
interface Rig {
  readonly stack: DeployedStack;
  readonly lane: LaneConfig;
  /** The lane's event source mapping. */
  readonly uuid: string;
  readonly drainTimeoutMs: number;
  readonly sqs: SQSClient;
  readonly lambda: LambdaClient;
  readonly ddb: DynamoDBClient;
}

/** The rig for `laneName`, or why there is none. */
async function laneRig(
  stack: DeployedStack,
  laneName: string,
  drainTimeoutMs: number,
): Promise<Rig | string> {
  const lane = stack.config.lanes[laneName];
  const sqs = new SQSClient({});
  const lambda = new LambdaClient({});
  const ddb = new DynamoDBClient({});
  const mappings = await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: lane.functionName }));
  const uuid = mappings.EventSourceMappings?.[0]?.UUID;
  if (!uuid) return `no event source mapping for ${lane.functionName}`;
  return { stack, lane, uuid, drainTimeoutMs, sqs, lambda, ddb };
}

async function setMapping(rig: Rig, enabled: boolean): Promise<void> {
  await rig.lambda.send(new UpdateEventSourceMappingCommand({ UUID: rig.uuid, Enabled: enabled }));
  const want = enabled ? 'Enabled' : 'Disabled';
  for (let i = 0; i < 150; i++) {
    const m = await rig.lambda.send(new GetEventSourceMappingCommand({ UUID: rig.uuid }));
    if (m.State === want) return;
    await sleep(200);
  }
  throw new Error(`event source mapping ${rig.uuid} did not become ${want}`);
}

/** Messages on the lane queue, visible or in flight. */
async function depth(rig: Rig): Promise<number> {
  const a = await rig.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: rig.lane.queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(a.Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

async function waitDrained(rig: Rig, what: string): Promise<void> {
  const deadline = Date.now() + rig.drainTimeoutMs;
  while ((await depth(rig)) > 0) {
    if (Date.now() > deadline)
      throw new Error(`${what}: the lane did not drain in ${rig.drainTimeoutMs / 1000} s`);
    await sleep(100);
  }
}

/** Enqueues `n` send-email jobs through the stack's JobClient; returns their ids. */
async function enqueueJobs(rig: Rig, n: number, tag: string): Promise<string[]> {
  const items = Array.from({ length: n }, (_, i) => ({
    type: 'send-email' as const,
    payload: { to: `bench-${i}@example.com`, subject: `bench ${tag}` },
  }));
  const results = await rig.stack.client.enqueueBatch(items);
  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0) throw new Error(`${failed.length} enqueues failed`);
  return results.map((r) => r.jobId as string);
}

/** How many of `ids` the ledger holds as SUCCEEDED. */
async function countSucceeded(rig: Rig, ids: string[]): Promise<number> {
  const table = rig.stack.config.tableName;
  let ok = 0;
  for (let i = 0; i < ids.length; i += 100) {
    let keys = ids.slice(i, i + 100).map((id) => ({ jobId: { S: id } }));
    while (keys.length > 0) {
      const out = await rig.ddb.send(
        new BatchGetItemCommand({
          RequestItems: {
            [table]: {
              Keys: keys,
              ProjectionExpression: '#s',
              ExpressionAttributeNames: { '#s': 'status' },
            },
          },
        }),
      );
      ok += (out.Responses?.[table] ?? []).filter((item) => item.status?.S === 'SUCCEEDED').length;
      keys = (out.UnprocessedKeys?.[table]?.Keys ?? []) as typeof keys;
    }
  }
  return ok;
}

/** Warms the consumer (the first invocation starts its process) with the mapping enabled. */
async function warmUp(rig: Rig, log: Log): Promise<void> {
  await setMapping(rig, true);
  log('warm-up: 20 jobs through the stack');
  const warm = await enqueueJobs(rig, 20, 'warm-up');
  await waitDrained(rig, 'warm-up');
  const warmOk = await countSucceeded(rig, warm);
  if (warmOk < warm.length) {
    const dlq = await rig.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: rig.lane.dlqUrl,
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    throw new Error(
      `the deployed consumer did not process jobs: after the warm-up drained the lane, ${warmOk}/${warm.length} were SUCCEEDED in the ledger and the lane DLQ held ${dlq.Attributes?.ApproximateNumberOfMessages ?? '?'} messages`,
    );
  }
  log(`warm-up: ${warmOk}/20 SUCCEEDED`);
}

async function measureRounds(
  rig: Rig,
  options: E2eOptions,
  log: Log,
): Promise<{ stack: number; raw: number }[]> {
  const perRound: { stack: number; raw: number }[] = [];
  for (let r = 0; r < options.rounds; r++) {
    const stackSeconds = await timeStack(rig, options.jobs, `round ${r}`);
    const rawSeconds = await timeBareLoop(rig, options.jobs);
    perRound.push({
      stack: round(options.jobs / stackSeconds, 1),
      raw: round(options.jobs / rawSeconds, 1),
    });
    log(
      `round ${r + 1}/${options.rounds}: stack ${perRound[r].stack} jobs/s, bare loop ${perRound[r].raw} jobs/s`,
    );
  }
  return perRound;
}

/**
 * Ours: jobs wait on the lane with the mapping off; the clock runs from enable to empty. Every job
 * must then be SUCCEEDED in the ledger. Returns the seconds.
 */
async function timeStack(rig: Rig, jobs: number, tag: string): Promise<number> {
  await setMapping(rig, false);
  await rig.sqs.send(new PurgeQueueCommand({ QueueUrl: rig.lane.queueUrl })).catch(() => undefined);
  const ids = await enqueueJobs(rig, jobs, tag);
  const t0 = performance.now();
  await setMapping(rig, true);
  await waitDrained(rig, 'stack');
  const seconds = (performance.now() - t0) / 1000;
  const succeeded = await countSucceeded(rig, ids);
  if (succeeded !== ids.length) {
    throw new Error(`only ${succeeded}/${ids.length} jobs SUCCEEDED in the ledger after the lane drained`);
  }
  return seconds;
}

/** Bare loop: same queue, same number of messages, mapping off. Returns the seconds. */
async function timeBareLoop(rig: Rig, jobs: number): Promise<number> {
  const queueUrl = rig.lane.queueUrl;
  await setMapping(rig, false);
  for (let i = 0; i < jobs; i += 10) {
    await rig.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Array.from({ length: Math.min(10, jobs - i) }, (_, k) => ({
          Id: String(k),
          MessageBody: JSON.stringify({ raw: i + k, pad: 'x'.repeat(150) }),
        })),
      }),
    );
  }
  let deleted = 0;
  const t0 = performance.now();
  while (deleted < jobs) {
    const out = await rig.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) continue;
    await rig.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((m, k) => ({ Id: String(k), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
    deleted += messages.length;
  }
  return (performance.now() - t0) / 1000;
}

/** The result: the median round of each path and their ratio. */
function summarize(
  perRound: { stack: number; raw: number }[],
  run: { endpoint: string; stackName: string; jobs: number; rounds: number; deploySeconds: number },
): E2eResult {
  const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  const stackRate = mid(perRound.map((p) => p.stack));
  const rawRate = mid(perRound.map((p) => p.raw));
  return {
    measured: true,
    endpoint: run.endpoint,
    stackName: run.stackName,
    lane: LANE,
    jobs: run.jobs,
    rounds: run.rounds,
    stackJobsPerSecond: stackRate,
    rawJobsPerSecond: rawRate,
    ratio: round(stackRate / rawRate, 3),
    perRound,
    deploySeconds: run.deploySeconds,
  };
}
