#!/usr/bin/env node
// Smoke proof that a LocalStack (host mode or Docker) runs what this project needs:
//   SQS -> Lambda event source mapping (ReportBatchItemFailures) -> DynamoDB writes from the
//   handler (AWS SDK v3 resolved through NODE_PATH), partial-batch redelivery, SQS redrive to a
//   DLQ + StartMessageMoveTask back, function timeout, a killed function process being replaced,
//   an init slower than the function timeout (init is bounded on its own, as on AWS), a process
//   that exits between invocations being replaced without failing the next invoke,
//   and a CloudWatch alarm on AWS/SQS ApproximateNumberOfMessagesVisible reaching ALARM.
//
//   bash scripts/localstack/up.sh && node scripts/localstack/smoke.mjs
//
// Endpoint: AWS_ENDPOINT_URL, else LOCALSTACK_ENDPOINT, else .local/localstack/state.env,
// else http://127.0.0.1:4566. SMOKE_SKIP=alarm,kill,timeout,init,exit,dlq skips parts. Exit code 0 = all ok.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import { CloudWatchClient, DescribeAlarmsCommand, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateTableCommand,
  DynamoDBClient,
  ScanCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  CreateEventSourceMappingCommand,
  CreateFunctionCommand,
  GetEventSourceMappingCommand,
  InvokeCommand,
  LambdaClient,
  waitUntilFunctionActiveV2,
} from '@aws-sdk/client-lambda';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  SendMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const skip = new Set((process.env.SMOKE_SKIP || '').split(',').filter(Boolean));

function endpoint() {
  if (process.env.AWS_ENDPOINT_URL) return process.env.AWS_ENDPOINT_URL;
  if (process.env.LOCALSTACK_ENDPOINT) return process.env.LOCALSTACK_ENDPOINT;
  const state = path.join(ROOT, '.local/localstack/state.env');
  if (existsSync(state)) {
    const m = readFileSync(state, 'utf8').match(/^LOCALSTACK_ENDPOINT=(.+)$/m);
    if (m) return m[1].trim();
  }
  return 'http://127.0.0.1:4566';
}
const ENDPOINT = endpoint();
const cfg = {
  endpoint: ENDPOINT,
  region: process.env.AWS_REGION || 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
};
const sqs = new SQSClient(cfg);
const ddb = new DynamoDBClient(cfg);
const lambda = new LambdaClient(cfg);
const cw = new CloudWatchClient(cfg);

const t0 = Date.now();
const log = (msg) => console.log(`[smoke +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const results = [];
async function step(name, fn) {
  if (skip.has(name.split(':')[0])) {
    log(`SKIP ${name}`);
    return;
  }
  log(`... ${name}`);
  try {
    await fn();
    results.push([name, true]);
    log(`ok   ${name}`);
  } catch (err) {
    results.push([name, false]);
    log(`FAIL ${name}: ${err?.stack || err}`);
  }
}
async function until(what, fn, timeoutMs, everyMs = 1000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await sleep(everyMs);
  }
}

// --- a minimal zip writer (deflate), so no zip tool is needed -----------------------------
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function zip(files) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.from(content);
    const comp = deflateRawSync(data);
    const nameBuf = Buffer.from(name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(comp.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(0x031e, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(comp.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBuf.length, 28);
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBuf, comp);
    centrals.push(central, nameBuf);
    offset += local.length + nameBuf.length + comp.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(files).length, 8);
  end.writeUInt16LE(Object.keys(files).length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

// The consumer: CommonJS like an esbuild bundle, @aws-sdk left external (resolved via NODE_PATH)
const CONSUMER = `
const { DynamoDBClient, PutItemCommand } = require('@aws-sdk/client-dynamodb');
const ddb = new DynamoDBClient({});
exports.handler = async (event, context) => {
  const batchItemFailures = [];
  for (const r of event.Records) {
    const body = JSON.parse(r.body);
    const receiveCount = Number(r.attributes.ApproximateReceiveCount);
    await ddb.send(new PutItemCommand({ TableName: process.env.TABLE, Item: {
      pk: { S: body.id + '#' + receiveCount }, id: { S: body.id }, receiveCount: { N: String(receiveCount) },
      requestId: { S: context.awsRequestId }, fn: { S: context.functionName },
      remainingMs: { N: String(context.getRemainingTimeInMillis()) },
      endpoint: { S: String(process.env.AWS_ENDPOINT_URL) } } }));
    if (body.mode === 'always-fail' || (body.mode === 'fail-once' && receiveCount < 2)) {
      batchItemFailures.push({ itemIdentifier: r.messageId });
    }
  }
  return { batchItemFailures };
};`;
const SLEEPER = `
exports.handler = async (event, context) => {
  await new Promise((r) => setTimeout(r, event.sleepMs || 0));
  return { ok: true, remaining: context.getRemainingTimeInMillis(), pid: process.pid };
};`;
// init (module scope) takes longer than the 3 s function timeout; the invoke itself is quick
const SLOW_INIT = `
const until = Date.now() + 4000;
while (Date.now() < until) {}
exports.handler = async (event, context) => ({ ok: true, remaining: context.getRemainingTimeInMillis(), pid: process.pid });`;
// answers, then its process exits (as after a crash in leftover async work)
const EXITER = `
exports.handler = async (event) => {
  if (event.exit) setTimeout(() => process.exit(3), 20);
  return { ok: true, pid: process.pid };
};`;

const id = Date.now().toString(36);
const names = {
  table: `smoke-${id}`,
  queue: `smoke-${id}`,
  dlq: `smoke-${id}-dlq`,
  alarmQueue: `smoke-${id}-alarm`,
  consumer: `smoke-consumer-${id}`,
  sleeper: `smoke-sleeper-${id}`,
  slowInit: `smoke-slow-init-${id}`,
  exiter: `smoke-exiter-${id}`,
};
let queueUrl;
let dlqUrl;
let dlqArn;
let queueArn;
const roleArn = 'arn:aws:iam::000000000000:role/smoke-lambda'; // LocalStack does not require the role to exist

async function items() {
  const out = await ddb.send(new ScanCommand({ TableName: names.table }));
  return (out.Items || []).map((i) => ({ id: i.id.S, receiveCount: Number(i.receiveCount.N), item: i }));
}
async function depth(url) {
  const a = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(a.Attributes.ApproximateNumberOfMessages) +
    Number(a.Attributes.ApproximateNumberOfMessagesNotVisible)
  );
}
function invokeSleeper(payload, functionName = names.sleeper) {
  return lambda
    .send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(payload)) }))
    .then((r) => ({
      error: r.FunctionError,
      body: JSON.parse(Buffer.from(r.Payload || []).toString() || 'null'),
    }));
}

log(`LocalStack at ${ENDPOINT}`);
const health = await fetch(`${ENDPOINT}/_localstack/health`).then(
  (r) => r.json(),
  (e) => {
    console.error(
      `[smoke] no LocalStack at ${ENDPOINT}: ${e.message}. Run bash scripts/localstack/up.sh first.`,
    );
    process.exit(2);
  },
);
log(`version ${health.version}, edition ${health.edition}`);

await step('setup: table, queues, role, functions, event source mapping', async () => {
  await ddb.send(
    new CreateTableCommand({
      TableName: names.table,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await waitUntilTableExists({ client: ddb, maxWaitTime: 60 }, { TableName: names.table });
  dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: names.dlq }))).QueueUrl;
  dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] })))
    .Attributes.QueueArn;
  queueUrl = (
    await sqs.send(
      new CreateQueueCommand({
        QueueName: names.queue,
        Attributes: {
          VisibilityTimeout: '4',
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 }),
        },
      }),
    )
  ).QueueUrl;
  queueArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))
  ).Attributes.QueueArn;
  for (const [name, code, timeout] of [
    [names.consumer, CONSUMER, 10],
    [names.sleeper, SLEEPER, 3],
    [names.slowInit, SLOW_INIT, 3],
    [names.exiter, EXITER, 3],
  ]) {
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'nodejs22.x',
        Handler: 'index.handler',
        Role: roleArn,
        Timeout: timeout,
        Code: { ZipFile: zip({ 'index.js': code }) },
        Environment: { Variables: { TABLE: names.table } },
      }),
    );
    await waitUntilFunctionActiveV2({ client: lambda, maxWaitTime: 60 }, { FunctionName: name });
  }
  const esm = await lambda.send(
    new CreateEventSourceMappingCommand({
      FunctionName: names.consumer,
      EventSourceArn: queueArn,
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    }),
  );
  await until(
    'event source mapping Enabled',
    async () => (await lambda.send(new GetEventSourceMappingCommand({ UUID: esm.UUID }))).State === 'Enabled',
    30000,
  );
});

await step(
  'esm: Lambda consumes SQS, writes DynamoDB, failed item redelivered, poison message to DLQ',
  async () => {
    for (const [i, mode] of ['ok', 'ok', 'fail-once', 'always-fail'].entries()) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: JSON.stringify({ id: `m${i}-${mode}`, mode }),
        }),
      );
    }
    const got = await until(
      'ok x2 once, fail-once twice, always-fail twice',
      async () => {
        const all = await items();
        const count = (pfx) => all.filter((x) => x.id.endsWith(pfx)).length;
        return count('-ok') === 2 && count('fail-once') === 2 && count('always-fail') === 2 ? all : null;
      },
      60000,
    );
    const sample = got[0].item;
    log(
      `  handler saw functionName=${sample.fn.S} requestId=${sample.requestId.S} remainingMs=${sample.remainingMs.N} AWS_ENDPOINT_URL=${sample.endpoint.S}`,
    );
    const failOnce = got
      .filter((x) => x.id.endsWith('fail-once'))
      .map((x) => x.receiveCount)
      .sort();
    if (failOnce.join() !== '1,2') throw new Error(`fail-once receive counts ${failOnce}`);
    if (!skip.has('dlq')) {
      await until('always-fail in the DLQ', async () => (await depth(dlqUrl)) === 1, 30000);
      log('  poison message redriven to the DLQ after maxReceiveCount=2');
    }
  },
);

await step('dlq: StartMessageMoveTask moves the DLQ back to its source', async () => {
  await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlqArn, DestinationArn: queueArn }));
  await until('DLQ drained', async () => (await depth(dlqUrl)) === 0, 30000);
  const tasks = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn }));
  log(
    `  move task status: ${tasks.Results?.[0]?.Status}, moved ${tasks.Results?.[0]?.ApproximateNumberOfMessagesMoved}`,
  );
  // the moved message is consumed again (and fails again): a third+ row for always-fail
  await until(
    'moved message consumed again',
    async () => (await items()).filter((x) => x.id.endsWith('always-fail')).length >= 3,
    30000,
  );
});

await step('timeout: a function exceeding its timeout returns Sandbox.Timedout', async () => {
  const r = await invokeSleeper({ sleepMs: 6000 });
  log(`  -> ${r.error}: ${JSON.stringify(r.body)}`);
  if (!r.error || !/timed out/i.test(r.body?.errorMessage || '')) throw new Error('expected a timeout error');
  const again = await invokeSleeper({ sleepMs: 0 });
  if (again.error || !again.body?.ok)
    throw new Error(`invoke after timeout failed: ${JSON.stringify(again)}`);
  log(`  next invoke ok in a fresh process (pid ${again.body.pid}, remaining ${again.body.remaining} ms)`);
});

await step('kill: a function process killed mid-invocation is reported and replaced', async () => {
  const first = await invokeSleeper({ sleepMs: 0 });
  const pending = invokeSleeper({ sleepMs: 2500 });
  await sleep(800);
  const pids = execFileSync('pgrep', ['-f', '--', `--function=${names.sleeper}`])
    .toString()
    .trim()
    .split('\n');
  log(`  killing function process(es) ${pids.join(',')} (was pid ${first.body.pid})`);
  for (const p of pids) process.kill(Number(p), 'SIGKILL');
  const r = await pending;
  log(`  -> ${r.error}: ${JSON.stringify(r.body)}`);
  if (!r.error) throw new Error('expected an error from the killed invocation');
  const again = await invokeSleeper({ sleepMs: 0 });
  if (again.error || !again.body?.ok || again.body.pid === first.body.pid)
    throw new Error(`no fresh process: ${JSON.stringify(again)}`);
  log(`  next invoke ok in pid ${again.body.pid}`);
});

await step('init: an init longer than the function timeout is not counted in it', async () => {
  const r = await invokeSleeper({}, names.slowInit);
  log(`  -> ${r.error ?? 'ok'}: ${JSON.stringify(r.body)}`);
  if (r.error || !r.body?.ok) throw new Error('a 4 s init failed a function with a 3 s timeout');
  if (r.body.remaining < 2000)
    throw new Error(`init was counted in the timeout (remaining ${r.body.remaining} ms)`);
});

await step(
  'exit: a process that exits between invocations is replaced, the next invoke not failed',
  async () => {
    const first = await invokeSleeper({ exit: true }, names.exiter);
    if (first.error) throw new Error(`first invoke failed: ${JSON.stringify(first)}`);
    await until(
      `process ${first.body.pid} to exit`,
      async () => {
        try {
          process.kill(first.body.pid, 0);
          return false;
        } catch {
          return true;
        }
      },
      10000,
      50,
    );
    const again = await invokeSleeper({}, names.exiter);
    log(`  -> ${again.error ?? 'ok'}: ${JSON.stringify(again.body)}`);
    if (again.error || !again.body?.ok || again.body.pid === first.body.pid)
      throw new Error(
        `the invoke after the exit failed or ran in the dead process: ${JSON.stringify(again)}`,
      );
  },
);

await step('alarm: ApproximateNumberOfMessagesVisible alarm reaches ALARM', async () => {
  const url = (await sqs.send(new CreateQueueCommand({ QueueName: names.alarmQueue }))).QueueUrl;
  for (let i = 0; i < 3; i++) await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: `x${i}` }));
  await cw.send(
    new PutMetricAlarmCommand({
      AlarmName: `smoke-${id}-depth`,
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: names.alarmQueue }],
      Statistic: 'Maximum',
      Period: 10,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    }),
  );
  const state = await until(
    'alarm state ALARM',
    async () => {
      const a = (await cw.send(new DescribeAlarmsCommand({ AlarmNames: [`smoke-${id}-depth`] })))
        .MetricAlarms?.[0];
      return a?.StateValue === 'ALARM' ? a : null;
    },
    90000,
    2000,
  );
  log(`  ${state.StateValue}: ${state.StateReason}`);
});

const failed = results.filter(([, ok]) => !ok);
console.log(`\n${results.length - failed.length} passed, ${failed.length} failed`);
process.exit(failed.length ? 1 : 0);
