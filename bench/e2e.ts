/**
 * Part 3: end to end on LocalStack. Jobs per second through the deployed example stack (SQS event
 * source → consumer Lambda → ledger on LocalStack's DynamoDB → delete) against a bare
 * ReceiveMessage → DeleteMessageBatch loop on the same queue, in the same run.
 *
 * The stack comes from test/support/deployed-stack.ts (deployed with cdklocal under its own stack
 * name, so the bench never disturbs a test run's stack). To time the drain alone, the lane's
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
    return `the example stack did not deploy on LocalStack (cdklocal via test/support/deployed-stack.ts): ${resource}`.slice(
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

export async function measureE2e(options: {
  readonly jobs: number;
  readonly rounds: number;
  readonly deployTimeoutMs: number;
  readonly drainTimeoutMs: number;
  readonly progress?: (line: string) => void;
}): Promise<E2eResult> {
  const log = options.progress ?? (() => undefined);
  let support: typeof import('../test/support/localstack.global-setup');
  let deployed: typeof import('../test/support/deployed-stack');
  try {
    support = await import('../test/support/localstack.global-setup');
    deployed = await import('../test/support/deployed-stack');
  } catch (error) {
    return { measured: false, reason: `LocalStack helpers not available (${(error as Error).message})` };
  }
  // The integ globalSetup's lease protocol: reuse a running LocalStack (or start one with up.sh),
  // hold a lease while measuring, and stop it afterwards only if this run started it and no
  // concurrent test run still holds a lease.
  let teardown: () => Promise<void>;
  let endpoint = '';
  try {
    log('LocalStack: up.sh (reuses one that answers) ...');
    teardown = await withTimeout(
      support.default({
        provide: (_key: string, value: string) => {
          endpoint = value;
        },
      } as unknown as Parameters<typeof support.default>[0]),
      300_000,
      'LocalStack start',
    );
  } catch (error) {
    return {
      measured: false,
      reason: `LocalStack did not start: ${(error as Error).message.split('\n')[0]}`,
    };
  }
  endpoint ||= process.env.AWS_ENDPOINT_URL ?? '';
  const stackName = process.env.BENCH_STACK ?? 'SqsJobsBench';
  try {
    log(`deploying the example stack as ${stackName} with cdklocal (test/support/deployed-stack.ts) ...`);
    const t0 = performance.now();
    const stack = await withTimeout(deployed.deployedStack(stackName), options.deployTimeoutMs, 'deploy');
    const deploySeconds = round((performance.now() - t0) / 1000, 1);
    log(`deployed in ${deploySeconds} s`);
    const laneName = 'high';
    const lane = stack.config.lanes[laneName];
    const sqs = new SQSClient({});
    const lambda = new LambdaClient({});
    const ddb = new DynamoDBClient({});
    const mappings = await lambda.send(
      new ListEventSourceMappingsCommand({ FunctionName: lane.functionName }),
    );
    const uuid = mappings.EventSourceMappings?.[0]?.UUID;
    if (!uuid) return { measured: false, reason: `no event source mapping for ${lane.functionName}` };

    const setMapping = async (enabled: boolean) => {
      await lambda.send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: enabled }));
      const want = enabled ? 'Enabled' : 'Disabled';
      for (let i = 0; i < 150; i++) {
        const m = await lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }));
        if (m.State === want) return;
        await sleep(200);
      }
      throw new Error(`event source mapping ${uuid} did not become ${want}`);
    };
    const depth = async () => {
      const a = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: lane.queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      return (
        Number(a.Attributes?.ApproximateNumberOfMessages ?? 0) +
        Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
      );
    };
    const waitDrained = async (what: string) => {
      const deadline = Date.now() + options.drainTimeoutMs;
      while ((await depth()) > 0) {
        if (Date.now() > deadline)
          throw new Error(`${what}: the lane did not drain in ${options.drainTimeoutMs / 1000} s`);
        await sleep(100);
      }
    };
    const enqueueJobs = async (n: number, tag: string) => {
      const items = Array.from({ length: n }, (_, i) => ({
        type: 'send-email' as const,
        payload: { to: `bench-${i}@example.com`, subject: `bench ${tag}` },
      }));
      const results = await stack.client.enqueueBatch(items);
      const failed = results.filter((r) => !r.ok);
      if (failed.length > 0) throw new Error(`${failed.length} enqueues failed`);
      return results.map((r) => r.jobId as string);
    };
    const countSucceeded = async (ids: string[]) => {
      let ok = 0;
      for (let i = 0; i < ids.length; i += 100) {
        let keys = ids.slice(i, i + 100).map((id) => ({ jobId: { S: id } }));
        while (keys.length > 0) {
          const out = await ddb.send(
            new BatchGetItemCommand({
              RequestItems: {
                [stack.config.tableName]: {
                  Keys: keys,
                  ProjectionExpression: '#s',
                  ExpressionAttributeNames: { '#s': 'status' },
                },
              },
            }),
          );
          ok += (out.Responses?.[stack.config.tableName] ?? []).filter(
            (item) => item.status?.S === 'SUCCEEDED',
          ).length;
          keys = (out.UnprocessedKeys?.[stack.config.tableName]?.Keys ?? []) as typeof keys;
        }
      }
      return ok;
    };

    // Warm the consumer (the first invocation starts its process) with the mapping enabled.
    await setMapping(true);
    log('warm-up: 20 jobs through the stack');
    const warm = await enqueueJobs(20, 'warm-up');
    await waitDrained('warm-up');
    const warmOk = await countSucceeded(warm);
    if (warmOk < warm.length) {
      const dlq = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: lane.dlqUrl,
          AttributeNames: ['ApproximateNumberOfMessages'],
        }),
      );
      throw new Error(
        `the deployed consumer did not process jobs: after the warm-up drained the lane, ${warmOk}/${warm.length} were SUCCEEDED in the ledger and the lane DLQ held ${dlq.Attributes?.ApproximateNumberOfMessages ?? '?'} messages`,
      );
    }
    log(`warm-up: ${warmOk}/20 SUCCEEDED`);

    const perRound: { stack: number; raw: number }[] = [];
    for (let r = 0; r < options.rounds; r++) {
      // Ours: jobs wait on the lane with the mapping off; the clock runs from enable to empty.
      await setMapping(false);
      await sqs.send(new PurgeQueueCommand({ QueueUrl: lane.queueUrl })).catch(() => undefined);
      const ids = await enqueueJobs(options.jobs, `round ${r}`);
      const t0 = performance.now();
      await setMapping(true);
      await waitDrained('stack');
      const stackSeconds = (performance.now() - t0) / 1000;
      const succeeded = await countSucceeded(ids);
      if (succeeded !== ids.length) {
        throw new Error(
          `only ${succeeded}/${ids.length} jobs SUCCEEDED in the ledger after the lane drained`,
        );
      }

      // Bare loop: same queue, same number of messages, mapping off.
      await setMapping(false);
      for (let i = 0; i < options.jobs; i += 10) {
        await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: lane.queueUrl,
            Entries: Array.from({ length: Math.min(10, options.jobs - i) }, (_, k) => ({
              Id: String(k),
              MessageBody: JSON.stringify({ raw: i + k, pad: 'x'.repeat(150) }),
            })),
          }),
        );
      }
      let deleted = 0;
      const t1 = performance.now();
      while (deleted < options.jobs) {
        const out = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: lane.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
        );
        const messages = out.Messages ?? [];
        if (messages.length === 0) continue;
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: lane.queueUrl,
            Entries: messages.map((m, k) => ({ Id: String(k), ReceiptHandle: m.ReceiptHandle })),
          }),
        );
        deleted += messages.length;
      }
      const rawSeconds = (performance.now() - t1) / 1000;
      perRound.push({
        stack: round(options.jobs / stackSeconds, 1),
        raw: round(options.jobs / rawSeconds, 1),
      });
      log(
        `round ${r + 1}/${options.rounds}: stack ${perRound[r].stack} jobs/s, bare loop ${perRound[r].raw} jobs/s`,
      );
    }
    await setMapping(true);
    const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
    const stackRate = mid(perRound.map((p) => p.stack));
    const rawRate = mid(perRound.map((p) => p.raw));
    return {
      measured: true,
      endpoint,
      stackName,
      lane: laneName,
      jobs: options.jobs,
      rounds: options.rounds,
      stackJobsPerSecond: stackRate,
      rawJobsPerSecond: rawRate,
      ratio: round(stackRate / rawRate, 3),
      perRound,
      deploySeconds,
    };
  } catch (error) {
    return { measured: false, endpoint, stackName, reason: explain(error) };
  } finally {
    await teardown().catch(() => undefined);
  }
}
