/**
 * Grants cover every call, proved: each principal's real code paths run against mocked SDK
 * clients, every call is turned into the IAM request AWS would authorize, and a real IAM policy
 * evaluator decides it against the principal's synthesized policies (tokens resolved to the ARNs
 * the deployed stack would have). Then the other direction: nothing is granted that no call needs.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand, type PutEventsCommandInput } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import type { CfnElement, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { main } from '../../../cli/main';
import { JobClient } from '../../../lambdas/client/job-client';
import { createConsumerHandler } from '../../../lambdas/consumer';
import { defineJob, defineRegistry } from '../../../lambdas/registry';
import {
  CONFIG_OUTPUT_DESCRIPTION,
  CONSUMER_ENV,
  ENVELOPE_VERSION,
  type JobQueueConfig,
  PRODUCER_ENV,
  SEARCH_INDEX,
} from '../../../lambdas/shared/contract';
import { PermanentJobError } from '../../../lambdas/shared/errors';
import { JobQueue } from '../../../lib';
import { envelopeBody, lambdaContext, record } from '../lambdas/support/fixtures';
import { REGISTRY, unbundledStack } from './helpers';
import { type DeployedEnv, TemplateResolver } from './support/cfn-resolve';
import {
  type CfnTemplate,
  denied,
  grantedActions,
  type IamRequest,
  queuePolicies,
  recordedRequests,
  rolePolicy,
} from './support/iam-check';

const mocks = {
  sqs: mockClient(SQSClient),
  dynamodb: mockClient(DynamoDBClient),
  scheduler: mockClient(SchedulerClient),
  cloudformation: mockClient(CloudFormationClient),
  cloudwatch: mockClient(CloudWatchClient),
  s3: mockClient(S3Client),
  eventBridge: mockClient(EventBridgeClient),
};

const ENV: DeployedEnv = { account: '111111111111', region: 'us-east-1', stackName: 'Test' };

let stack: Stack;
let jobQueue: JobQueue;
let resolver: TemplateResolver;
let config: JobQueueConfig;
let configOutput: { OutputKey: string; OutputValue: string; Description?: string };
const roles: Record<string, string> = {};
let producerFunctionEnv: Record<string, string>;

beforeAll(() => {
  stack = unbundledStack();
  jobQueue = new JobQueue(stack, 'Jobs', {
    registryEntry: REGISTRY,
    lanes: [{ name: 'default' }, { name: 'ordered', fifo: true }],
    jobSearch: true,
    // The default results bucket, and lifecycle events to the default bus.
    lifecycleEvents: true,
  });
  const enqueuer = new iam.Role(stack, 'Enqueuer', { assumedBy: new iam.AccountRootPrincipal() });
  jobQueue.grantEnqueue(enqueuer);
  const statusReader = new iam.Role(stack, 'StatusReader', { assumedBy: new iam.AccountRootPrincipal() });
  jobQueue.grantStatusRead(statusReader);
  const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
  jobQueue.grantOperate(operator);
  const canceller = new iam.Role(stack, 'Canceller', { assumedBy: new iam.AccountRootPrincipal() });
  jobQueue.grantCancel(canceller);
  const producerFunction = new lambda.Function(stack, 'Api', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => undefined;'),
  });
  jobQueue.configureProducer(producerFunction);

  const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(construct.node.defaultChild as CfnElement);
  roles.enqueuer = logicalId(enqueuer);
  roles.statusReader = logicalId(statusReader);
  roles.operator = logicalId(operator);
  roles.canceller = logicalId(canceller);
  roles.producerFunction = logicalId(producerFunction.role as iam.Role);
  roles.scheduler = logicalId(jobQueue.schedulerRole as iam.Role);
  for (const lane of jobQueue.lanes.values())
    roles[`consumer-${lane.name}`] = logicalId(lane.consumer.role as iam.Role);

  const template = Template.fromStack(stack).toJSON() as CfnTemplate & {
    Outputs: Record<string, { Value: unknown; Description?: string }>;
  };
  resolver = new TemplateResolver(template, ENV);
  const [outputKey, output] = Object.entries(template.Outputs).find(
    ([, o]) => o.Description === CONFIG_OUTPUT_DESCRIPTION,
  ) as [string, { Value: unknown; Description?: string }];
  configOutput = {
    OutputKey: outputKey,
    OutputValue: resolver.resolve<string>(output.Value),
    Description: output.Description,
  };
  config = JSON.parse(configOutput.OutputValue);
  producerFunctionEnv = functionEnvironment((variables) => Object.hasOwn(variables, PRODUCER_ENV.config));
});

/** A Lambda function's environment variables from the template, resolved. */
function functionEnvironment(
  matches: (variables: Record<string, unknown>) => boolean,
): Record<string, string> {
  for (const resource of Object.values(resolver.template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const variables = (
      resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined
    )?.Variables;
    if (variables && matches(variables)) return resolver.resolve(variables);
  }
  throw new Error('No such function in the template');
}

/** Answers every call the code paths make with a plausible success. */
function answerEverything(): void {
  for (const m of Object.values(mocks)) m.reset();
  mocks.cloudformation.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: ENV.stackName,
        CreationTime: new Date(),
        StackStatus: 'CREATE_COMPLETE',
        Outputs: [configOutput],
      },
    ],
  });
  mocks.sqs.on(SendMessageCommand).resolves({ MessageId: 'sent' });
  mocks.sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
    Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}`, MD5OfMessageBody: '' })),
    Failed: [],
  }));
  mocks.sqs.on(GetQueueAttributesCommand).resolves({
    Attributes: { ApproximateNumberOfMessages: '3', ApproximateNumberOfMessagesNotVisible: '0' },
  });
  mocks.sqs.on(ChangeMessageVisibilityCommand).resolves({});
  mocks.sqs.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
  mocks.sqs.on(DeleteMessageCommand).resolves({});
  mocks.sqs.on(PurgeQueueCommand).resolves({});
  mocks.sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-1' });
  mocks.sqs
    .on(ListMessageMoveTasksCommand)
    .resolves({ Results: [{ TaskHandle: 'task-1', Status: 'COMPLETED' }] });
  mocks.dynamodb.on(PutItemCommand).resolves({});
  mocks.dynamodb.on(DeleteItemCommand).resolves({});
  mocks.dynamodb.on(QueryCommand).resolves({ Items: [] });
  mocks.dynamodb.on(UpdateItemCommand).resolves({ Attributes: {} });
  mocks.dynamodb.on(GetItemCommand).resolves({
    Item: { jobId: { S: 'job-1' }, status: { S: 'DEAD' }, attempts: { N: '5' } },
  });
  mocks.scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:aws:scheduler:::schedule/x/y' });
  mocks.scheduler.on(DeleteScheduleCommand).resolves({});
  mocks.scheduler.on(ListSchedulesCommand).resolves({ Schedules: [{ Name: 'nightly' }] });
  mocks.scheduler.on(GetScheduleCommand).resolves({
    Name: 'nightly',
    State: 'ENABLED',
    ScheduleExpression: 'cron(0 3 * * ? *)',
    Target: { Arn: config.lanes.default.queueArn, RoleArn: config.schedulerRoleArn, Input: '{"type":"x"}' },
  });
  mocks.cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
  mocks.cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
  // A job whose result is in the results bucket: getJob reads it from S3.
  mocks.dynamodb.on(GetItemCommand, { Key: { jobId: { S: 'job-big' } } }).resolves({
    Item: {
      jobId: { S: 'job-big' },
      status: { S: 'SUCCEEDED' },
      attempts: { N: '1' },
      resultRef: { S: 'results/job-big/0b7e.json' },
    },
  });
  mocks.s3.on(PutObjectCommand).resolves({});
  mocks.s3
    .on(GetObjectCommand)
    .resolves({ Body: { transformToString: async () => '{"rows":2000}' } as never });
  mocks.eventBridge.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) => ({
    FailedEntryCount: 0,
    Entries: (input.Entries ?? []).map((_, i) => ({ EventId: `e-${i}` })),
  }));
}

function recorded(): IamRequest[] {
  return recordedRequests(mocks, ENV);
}

/** Every request allowed, and exactly the recorded actions (plus `platform` ones) granted. */
async function expectExactGrants(
  role: string,
  requests: readonly IamRequest[],
  platform: readonly string[] = [],
): Promise<void> {
  const policy = rolePolicy(resolver, roles[role]);
  const principal = `arn:aws:iam::${ENV.account}:role/${role}`;
  const failures = await denied(requests, principal, policy, queuePolicies(resolver), ENV);
  expect(
    failures.map((f) => `${f.request.via} → ${f.request.action} on ${f.request.resource}: ${f.result}`),
  ).toEqual([]);
  const needed = new Set([...requests.map((r) => r.action), ...platform]);
  expect([...grantedActions(policy)].sort()).toEqual([...needed].sort());
}

// ---------------------------------------------------------------------------------------------
// Producers

/** The ledger table's ARN, as the deployed stack would have it. */
function ledgerArn(): string {
  return `arn:aws:dynamodb:${ENV.region}:${ENV.account}:table/${config.tableName}`;
}

/** Debounced job types: `keep: 'last'` counts each enqueue into its window's ledger item (UpdateItem). */
const digest = defineJob({
  type: 'digest',
  schema: z.object({ user: z.string() }),
  debounce: { key: (payload) => payload.user, seconds: 60 },
  handler: async () => undefined,
});
const firstDigest = defineJob({
  type: 'first-digest',
  schema: z.object({ user: z.string() }),
  debounce: { key: (payload) => payload.user, seconds: 60, keep: 'first' },
  handler: async () => undefined,
});
const debouncedRegistry = defineRegistry([digest, firstDigest]);

/** Debounced enqueues, `keep: 'last'` (twice in one window) and `keep: 'first'`. */
async function debouncedPaths(client: JobClient<typeof debouncedRegistry>): Promise<void> {
  // producerPaths left SendMessage's answer after a rejectsOnce: answer every send again.
  mocks.sqs.on(SendMessageCommand).resolves({ MessageId: 'sent' });
  await client.enqueue('digest', { user: 'u-1' });
  await client.enqueue('digest', { user: 'u-1' });
  await client.enqueue('first-digest', { user: 'u-1' });
}

/** Every JobClient path: plain, FIFO, keyed, undo after a failed send, backlog check, delays
 * through Scheduler (standard > 900 s and FIFO), batches, and getJob when `withStatus`. */
async function producerPaths(client: JobClient, options: { readonly withStatus: boolean }): Promise<void> {
  await client.enqueue('report', { n: 1 });
  await client.enqueue('report', { n: 1 }, { lane: 'ordered', groupId: 'g' });
  await client.enqueue('report', { n: 1 }, { idempotencyKey: 'key-1' });
  mocks.sqs.on(SendMessageCommand).rejectsOnce(new Error('throttled'));
  await expect(client.enqueue('report', { n: 2 }, { idempotencyKey: 'key-2' })).rejects.toThrow(
    /Could not enqueue/,
  );
  await client.enqueue('report', { n: 1 }, { delaySeconds: 3600, idempotencyKey: 'key-3' });
  await client.enqueue('report', { n: 1 }, { lane: 'ordered', groupId: 'g', delaySeconds: 60 });
  await client.enqueueBatch([
    { type: 'report', payload: { n: 1 } },
    { type: 'report', payload: { n: 2 }, options: { lane: 'ordered', groupId: 'g' } },
    { type: 'report', payload: { n: 3 }, options: { idempotencyKey: 'key-4' } },
  ]);
  if (options.withStatus) await statusPaths(client);
}

/**
 * getJob (one result in the ledger, one in S3), listJobs, getGroup (a group item and its shards)
 * and getChain (a chain item and its steps). Returns the job whose result is in S3.
 */
async function statusPaths(client: JobClient) {
  await client.getJob('job-1');
  const big = await client.getJob('job-big');
  await client.listJobs({ status: ['DEAD', 'FAILED'], type: 'report' });
  answerGroupReads({ type: 'report', lane: 'default', queueUrl: config.lanes.default.queueUrl, fifo: false });
  expect(await client.getGroup('g1')).toMatchObject({ total: 1, succeeded: 1 });
  expect(await client.getChain('c1')).toMatchObject({ total: 2 });
  return big;
}

describe('producer grants', () => {
  beforeEach(answerEverything);

  it('grantEnqueue allows every enqueue path found with fromStack, and grants nothing else', async () => {
    // Prepare
    const client = await JobClient.fromStack(ENV.stackName, { backlogLimits: { default: 1000 } });
    const debouncing = await JobClient.fromStack(ENV.stackName, { registry: debouncedRegistry });

    // Act
    await producerPaths(client, { withStatus: false });
    await debouncedPaths(debouncing);

    // Assess
    const requests = recorded();
    expect(new Set(requests.map((r) => r.via))).toEqual(
      new Set([
        'cloudformation:DescribeStacks',
        'sqs:GetQueueAttributes',
        'sqs:SendMessage',
        'sqs:SendMessageBatch',
        'dynamodb:PutItem',
        'dynamodb:DeleteItem',
        'dynamodb:UpdateItem',
        'scheduler:CreateSchedule',
      ]),
    );
    await expectExactGrants('enqueuer', requests);
  });

  it.each(['enqueuer', 'producerFunction'])(
    'the %s may UpdateItem the ledger (a debounced enqueue), and no other table',
    async (role) => {
      // Prepare
      const policy = rolePolicy(resolver, roles[role]);
      const otherTable = `arn:aws:dynamodb:${ENV.region}:${ENV.account}:table/other`;

      // Act
      const failures = await denied(
        [
          { action: 'dynamodb:UpdateItem', resource: ledgerArn(), via: 'debounced enqueue' },
          { action: 'dynamodb:UpdateItem', resource: otherTable, via: 'other table' },
        ],
        `arn:aws:iam::${ENV.account}:role/${role}`,
        policy,
        queuePolicies(resolver),
        ENV,
      );

      // Assess
      expect(failures.map((f) => `${f.request.via}: ${f.result}`)).toEqual(['other table: ImplicitlyDenied']);
    },
  );

  it('grantStatusRead allows getJob found with fromStack, and grants nothing else', async () => {
    // Act
    const client = await JobClient.fromStack(ENV.stackName);
    const big = await statusPaths(client);
    await client.listJobs({ status: 'DEAD' });

    // Assess
    const requests = recorded();
    expect(big?.result).toEqual({ rows: 2000 });
    expect(new Set(requests.map((r) => r.via))).toContain('s3:GetObject');
    expect(requests.map((r) => r.via)).toContain('dynamodb:Query');
    await expectExactGrants('statusReader', requests);
  });

  it.each(['statusReader', 'producerFunction', 'operator'])(
    'the %s may Query the search index only: not the table, nor another index',
    async (role) => {
      // Act
      const failures = await denied(
        [
          {
            action: 'dynamodb:Query',
            resource: `${ledgerArn()}/index/${SEARCH_INDEX.name}`,
            via: 'search index',
          },
          { action: 'dynamodb:Query', resource: ledgerArn(), via: 'table' },
          { action: 'dynamodb:Query', resource: `${ledgerArn()}/index/other`, via: 'other index' },
        ],
        `arn:aws:iam::${ENV.account}:role/${role}`,
        rolePolicy(resolver, roles[role]),
        queuePolicies(resolver),
        ENV,
      );

      // Assess
      expect(failures.map((f) => `${f.request.via}: ${f.result}`)).toEqual([
        'table: ImplicitlyDenied',
        'other index: ImplicitlyDenied',
      ]);
    },
  );

  it('without jobSearch, no grant allows a Query', () => {
    // Prepare
    const plain = unbundledStack();
    const queue = new JobQueue(plain, 'Jobs', { registryEntry: REGISTRY });
    const reader = new iam.Role(plain, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    queue.grantStatusRead(reader);
    queue.grantOperate(reader);

    // Act
    const policies = JSON.stringify(Template.fromStack(plain).findResources('AWS::IAM::Policy'));

    // Assess
    expect(policies).not.toContain('dynamodb:Query');
    expect(queue.config.searchIndex).toBeUndefined();
  });

  it('configureProducer gives a Lambda its config without DescribeStacks and exactly the rights it uses', async () => {
    // Prepare
    const client = JobClient.fromEnvironment({ env: producerFunctionEnv, backlogLimits: { default: 1000 } });
    const debouncing = JobClient.fromEnvironment({ env: producerFunctionEnv, registry: debouncedRegistry });

    // Act
    await producerPaths(client, { withStatus: true });
    await debouncedPaths(debouncing);

    // Assess
    expect(client.config).toEqual(config);
    const requests = recorded();
    expect(requests.some((r) => r.action.startsWith('cloudformation:'))).toBe(false);
    expect(requests.map((r) => r.via)).toContain('dynamodb:UpdateItem');
    await expectExactGrants('producerFunction', requests);
  });

  it('configureProducer warns when the config may not fit in a Lambda environment', () => {
    // Prepare
    const big = unbundledStack();
    const queue = new JobQueue(big, 'Jobs', {
      registryEntry: REGISTRY,
      lanes: ['a', 'b', 'c', 'd', 'e', 'f'].map((name) => ({ name })),
    });
    const fn = new lambda.Function(big, 'Api', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => undefined;'),
    });

    // Act
    queue.configureProducer(fn);

    // Assess
    Annotations.fromStack(big).hasWarning('/Test/Api', Match.stringLikeRegexp('6 lanes .*4 KB'));
  });

  it('fails fromEnvironment without the variable, naming it', () => {
    expect(() => JobClient.fromEnvironment({ env: {} })).toThrow(/SQS_JOBS_CONFIG/);
  });
});

// ---------------------------------------------------------------------------------------------
// Consumers

const progressing = defineJob({
  type: 'progressing',
  schema: z.object({}),
  handler: async (_payload, ctx) => {
    await ctx.progress(50);
    // Long enough for a few heartbeats (visibility extension + lease extension).
    await new Promise((resolve) => setTimeout(resolve, 60));
    return { done: true };
  },
});
const optimistic = defineJob({
  type: 'optimistic',
  schema: z.object({}),
  idempotency: 'optimistic',
  handler: async () => 1,
});
const unledgered = defineJob({
  type: 'unledgered',
  schema: z.object({}),
  idempotency: 'none',
  handler: async (_payload, ctx) => {
    await ctx.progress({ step: 1 });
  },
});
const flaky = defineJob({
  type: 'flaky',
  schema: z.object({}),
  handler: async () => {
    throw new Error('downstream 503');
  },
});
const doomed = defineJob({
  type: 'doomed',
  schema: z.object({}),
  handler: async () => {
    throw new PermanentJobError('card declined');
  },
});
/** At most one at once: with the slot held elsewhere, every delivery is deferred by the limit. */
const limited = defineJob({
  type: 'limited',
  schema: z.object({}),
  concurrency: { limit: 1 },
  handler: async () => 1,
});
/** A result over the ledger's inline limit: written to the results bucket. */
const bulky = defineJob({
  type: 'bulky',
  schema: z.object({}),
  handler: async () => ({ text: 'x'.repeat(2048) }),
});
const consumerRegistry = defineRegistry([progressing, optimistic, unledgered, flaky, doomed, limited, bulky]);

/** An SQS record carrying a job envelope of `type` (id `job-<messageId>`). */
function sqsRecord(
  messageId: string,
  type: string,
  options: { groupId?: string; receiveCount?: number } = {},
): SQSRecord {
  return record(messageId, envelopeBody(`job-${messageId}`, type, {}), options);
}

/**
 * What the lane's event source mapping does with the function's role (Lambda polls, deletes
 * acknowledged messages and reads the queue's attributes; CDK's SqsEventSource also grants
 * GetQueueUrl and ChangeMessageVisibility), and the function's own log writes.
 */
const CONSUMER_PLATFORM = [
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'sqs:GetQueueAttributes',
  'sqs:GetQueueUrl',
  'sqs:ChangeMessageVisibility',
  'logs:CreateLogStream',
  'logs:PutLogEvents',
];

/**
 * Ledger reads of a group `g1` of one member whose shard is done: the settle that follows reports
 * the shard, reads the shards and sends the `onComplete` callback to `target`.
 */
function answerGroupReads(target: { type: string; lane: string; queueUrl: string; fifo: boolean }): void {
  const shard = { jobId: { S: '~group:g1#0' }, succeeded: { NS: ['0'] } };
  mocks.dynamodb.on(GetItemCommand).callsFake((input: { Key: { jobId: { S: string } } }) => {
    const id = input.Key.jobId.S;
    if (id === '~group:g1#0') return { Item: shard };
    if (id === '~chain:c1') {
      return {
        Item: {
          jobId: { S: id },
          kind: { S: 'chain' },
          total: { N: '2' },
          steps: {
            S: JSON.stringify([
              ['report', 'default'],
              ['report', 'default'],
            ]),
          },
          state: { S: 'RUNNING' },
          current: { N: '0' },
        },
      };
    }
    if (id === '~group:g1') {
      return {
        Item: {
          jobId: { S: id },
          kind: { S: 'group' },
          total: { N: '1' },
          shards: { N: '1' },
          state: { S: 'RUNNING' },
          createdAt: { S: '2026-03-01T12:00:00Z' },
          callbacks: {
            S: JSON.stringify({ shardTotals: [1], onComplete: { ...target, jobId: 'k-callback' } }),
          },
        },
      };
    }
    return { Item: { jobId: { S: id }, status: { S: 'DEAD' }, attempts: { N: '5' } } };
  });
  // Counting: the shard's sets hold its one member; the group item then holds its one shard.
  mocks.dynamodb.on(UpdateItemCommand).callsFake((input: { Key: { jobId: { S: string } } }) => {
    const id = input.Key.jobId.S;
    if (id === '~group:g1#0') return { Attributes: shard };
    if (id === '~group:g1') return { Attributes: { jobId: { S: id }, doneShards: { NS: ['0'] } } };
    return { Attributes: {} };
  });
  mocks.dynamodb.on(BatchGetItemCommand).callsFake((input: { RequestItems: Record<string, unknown> }) => ({
    Responses: Object.fromEntries(Object.keys(input.RequestItems).map((t) => [t, [shard]])),
  }));
}

describe('consumer grants', () => {
  beforeEach(answerEverything);

  it.each(['default', 'ordered'])(
    'the %s lane consumer is allowed claim, progress, heartbeat, complete, fail, backoff and dead-lettering, and nothing else',
    async (laneName) => {
      // Prepare: the consumer's environment exactly as the template sets it.
      const lane = jobQueue.lane(laneName);
      const env = functionEnvironment((variables) => variables[CONSUMER_ENV.lane] === laneName);
      const metrics = new Metrics({ namespace: 'Test', serviceName: 'test' });
      metrics.publishStoredMetrics = () => metrics;
      const handler = createConsumerHandler(consumerRegistry, {
        env,
        logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
        metrics,
        heartbeatIntervalMs: 10,
        progressIntervalMs: 0,
        random: () => 0.5,
      });
      const group = lane.fifo ? { groupId: 'g' } : {};
      // A group member whose end completes its group, whose callback goes to the other lane, and
      // a chain step whose successor does too.
      const other = config.lanes[laneName === 'default' ? 'ordered' : 'default'];
      const otherLane = laneName === 'default' ? 'ordered' : 'default';
      answerGroupReads({ type: 'optimistic', lane: otherLane, queueUrl: other.queueUrl, fifo: other.fifo });
      const member = record(
        'member',
        envelopeBody('job-member', 'optimistic', {}, { group: { id: 'g1', shard: 0, index: 0 } }),
        { groupId: lane.fifo ? 'm' : undefined },
      );
      const step = record(
        'step',
        envelopeBody(
          'job-step',
          'optimistic',
          {},
          {
            chain: {
              id: 'c1',
              index: 0,
              next: [
                {
                  type: 'optimistic',
                  payload: {},
                  lane: otherLane,
                  queueUrl: other.queueUrl,
                  fifo: other.fifo,
                },
              ],
            },
          },
        ),
        { groupId: lane.fifo ? 's' : undefined },
      );

      // Act
      await handler(
        {
          Records: [
            sqsRecord('progressing', 'progressing', { groupId: lane.fifo ? 'p' : undefined }),
            sqsRecord('optimistic', 'optimistic', { groupId: lane.fifo ? 'o' : undefined }),
            sqsRecord('unledgered', 'unledgered', { groupId: lane.fifo ? 'u' : undefined }),
            sqsRecord('doomed', 'doomed', { groupId: lane.fifo ? 'd' : undefined }),
            sqsRecord('bulky', 'bulky', { groupId: lane.fifo ? 'b' : undefined }),
            sqsRecord('flaky', 'flaky', group),
            // FIFO: held back behind the failed one, so its visibility is changed in a batch.
            sqsRecord('follower', 'progressing', group),
            sqsRecord('exhausted', 'flaky', {
              ...group,
              receiveCount: jobQueue.config.lanes[lane.name].maxReceiveCount,
            }),
            member,
            step,
          ],
        },
        lambdaContext(),
      );

      // Assess
      const requests = recorded();
      const vias = new Set(requests.map((r) => r.via));
      for (const via of [
        'dynamodb:UpdateItem',
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:PutItem',
        'sqs:ChangeMessageVisibility',
        'sqs:SendMessage',
        's3:PutObject',
        'eventBridge:PutEvents',
      ]) {
        expect(vias).toContain(via);
      }
      // The callback and the next step went to the other lane.
      const sentTo = new Set(requests.filter((r) => r.via === 'sqs:SendMessage').map((r) => r.resource));
      expect(sentTo).toContain(other.queueArn);
      if (lane.fifo) expect(vias).toContain('sqs:ChangeMessageVisibilityBatch');
      await expectExactGrants(`consumer-${laneName}`, requests, CONSUMER_PLATFORM);
    },
  );
});

describe('consumer grants: limits', () => {
  beforeEach(answerEverything);

  it('a job deferred by a concurrency limit on its last receives is sent back to its own lane, which the consumer may do', async () => {
    // Prepare: the slot is taken by another run (the acquire's condition fails with a full map).
    const env = functionEnvironment((variables) => variables[CONSUMER_ENV.lane] === 'default');
    mocks.dynamodb.on(UpdateItemCommand).callsFake((input: { Key: { jobId: { S: string } } }) => {
      if (!input.Key.jobId.S.startsWith('~conc')) return { Attributes: {} };
      throw new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
        Item: {
          jobId: input.Key.jobId,
          holders: { M: { other: { N: String(Date.now() + 60_000) } } },
        },
      });
    });
    const metrics = new Metrics({ namespace: 'Test', serviceName: 'test' });
    metrics.publishStoredMetrics = () => metrics;
    const handler = createConsumerHandler(consumerRegistry, {
      env,
      logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
      metrics,
      random: () => 0.5,
    });
    const receiveCount = jobQueue.config.lanes.default.maxReceiveCount ?? 0;

    // Act
    const response = await handler(
      { Records: [sqsRecord('limited', 'limited', { receiveCount: receiveCount - 1 })] },
      lambdaContext(),
    );

    // Assess: acknowledged, because a fresh copy went to the lane itself.
    expect(response.batchItemFailures).toEqual([]);
    const requests = recorded();
    const sends = requests.filter((r) => r.via === 'sqs:SendMessage');
    expect(sends.map((r) => r.resource)).toEqual([config.lanes.default.queueArn]);
    // Every request allowed (GetItem, PutItem, BatchGetItem, PutObject and PutEvents, granted for
    // the other paths, are simply not used here: nothing ran).
    await expectExactGrants('consumer-default', requests, [
      ...CONSUMER_PLATFORM,
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:BatchGetItem',
      's3:PutObject',
      'events:PutEvents',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// Operators (the sqs-jobs CLI)

async function cli(...argv: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const code = await main([...argv, '--stack', ENV.stackName], {
    stdout: () => undefined,
    stderr: (text) => {
      stderr += text;
    },
    env: {},
    cwd: process.cwd(),
    // No ~/.aws files and no recorded local stack: the machine's own must not change the target.
    files: { readText: () => undefined, homeDir: '/home/nobody' },
    isTTY: false,
    now: () => Date.parse('2026-03-01T12:00:00Z'),
    sleep: async () => undefined,
  });
  return { code, stderr };
}

function dlqMessage(jobId: string) {
  return {
    MessageId: `m-${jobId}`,
    ReceiptHandle: `r-${jobId}`,
    Body: JSON.stringify({
      v: ENVELOPE_VERSION,
      id: jobId,
      type: 'report',
      payload: {},
      enqueuedAt: '2026-03-01T11:00:00Z',
    }),
  };
}

describe('operator grants', () => {
  beforeEach(answerEverything);

  it('grantOperate allows every operator command of the CLI and cancelling, and grants nothing else', async () => {
    // Prepare: each DLQ scan finds the job, then runs dry.
    mocks.sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [dlqMessage('job-1'), dlqMessage('job-2')] })
      .resolvesOnce({ Messages: [] })
      .resolvesOnce({ Messages: [dlqMessage('job-1')] })
      .resolvesOnce({ Messages: [dlqMessage('job-1')] })
      .resolves({ Messages: [] });

    // Act
    const runs = [
      await cli('dlq', 'list', 'default'),
      await cli('dlq', 'retry', 'default', 'job-1'),
      await cli('dlq', 'delete', 'ordered', 'job-1'),
      await cli('dlq', 'redrive', 'default'),
      await cli('dlq', 'purge', 'ordered', '--yes'),
      await cli('schedules'),
      await cli('stats'),
      await cli('top', '--iterations', '1'),
      await cli('status', 'job-1'),
      await cli('jobs', 'list', '--status', 'DEAD', '--since', '1d'),
      await cli('status', 'job-big'),
    ];
    // A finished group left unsettled: `group --settle` sends its callback (a keyed PutItem).
    answerGroupReads({
      type: 'report',
      lane: 'default',
      queueUrl: config.lanes.default.queueUrl,
      fifo: false,
    });
    runs.push(await cli('group', 'g1', '--settle'), await cli('chain', 'c1'));

    // Assess
    expect(runs.map((r) => `${r.code} ${r.stderr}`)).toEqual(runs.map((r) => `0 ${r.stderr}`));
    const requests = recorded();
    for (const via of [
      'sqs:ReceiveMessage',
      'sqs:ChangeMessageVisibilityBatch',
      'sqs:SendMessage',
      'sqs:DeleteMessage',
      'sqs:StartMessageMoveTask',
      'sqs:ListMessageMoveTasks',
      'sqs:PurgeQueue',
      'scheduler:GetSchedule',
      'cloudwatch:DescribeAlarms',
      'dynamodb:GetItem',
      'dynamodb:Query',
      's3:GetObject',
    ]) {
      expect(new Set(requests.map((r) => r.via))).toContain(via);
    }
    // `sqs-jobs cancel` is JobClient.cancel.
    await cancelPaths();
    await expectExactGrants('operator', recorded());
  });
});

// ---------------------------------------------------------------------------------------------
// Cancelling (JobClient.cancel, sqs-jobs cancel)

/** The ledger's answer when a cancel's condition fails: the job is RUNNING. */
function running(jobId: string): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    Item: { jobId: { S: jobId }, status: { S: 'RUNNING' }, attempts: { N: '1' } },
  });
}

/**
 * Every JobClient.cancel path: a queued or delayed job (CANCELLED, then its one-time schedule is
 * deleted), a running one (asked to stop: a second conditional UpdateItem), and a ledger item that
 * keeps changing (read once more).
 */
async function cancelPaths(): Promise<void> {
  mocks.dynamodb
    .on(UpdateItemCommand)
    .callsFake((input: { Key: { jobId: { S: string } }; ConditionExpression: string }) => {
      const jobId = input.Key.jobId.S;
      if (jobId === 'queued') return { Attributes: { jobId: { S: jobId }, status: { S: 'ENQUEUED' } } };
      if (jobId === 'running' && input.ConditionExpression.includes(':running')) return {};
      throw running(jobId);
    });
  const client = await JobClient.fromStack(ENV.stackName);
  const outcomes = [
    await client.cancel('queued'),
    await client.cancel('running'),
    await client.cancel('changing'),
  ];
  expect(outcomes.map((o) => o.outcome)).toEqual(['cancelled', 'cancelling', 'already-finished']);
  expect(outcomes[0].scheduleDeleted).toBe(true);
}

describe('cancel grants', () => {
  beforeEach(answerEverything);

  it('grantCancel allows every cancel path found with fromStack, and grants nothing else', async () => {
    // Act
    await cancelPaths();

    // Assess
    const requests = recorded();
    expect(new Set(requests.map((r) => r.via))).toEqual(
      new Set([
        'cloudformation:DescribeStacks',
        'dynamodb:UpdateItem',
        'dynamodb:GetItem',
        'scheduler:DeleteSchedule',
      ]),
    );
    const schedule = requests.find((r) => r.action === 'scheduler:DeleteSchedule');
    expect(schedule?.resource).toBe(
      `arn:aws:scheduler:${ENV.region}:${ENV.account}:schedule/${config.scheduleGroup}/job-queued`,
    );
    await expectExactGrants('canceller', requests);
  });

  it('grantCancel denies schedules of other groups, the group’s cron schedules, other tables and creating schedules', async () => {
    // Prepare
    const policy = rolePolicy(resolver, roles.canceller);
    const schedule = (group: string) =>
      `arn:aws:scheduler:${ENV.region}:${ENV.account}:schedule/${group}/job-1`;
    const requests: IamRequest[] = [
      { action: 'scheduler:DeleteSchedule', resource: schedule('other-group'), via: 'other group' },
      { action: 'scheduler:DeleteSchedule', resource: schedule('default'), via: 'default group' },
      {
        action: 'dynamodb:UpdateItem',
        resource: `arn:aws:dynamodb:${ENV.region}:${ENV.account}:table/other`,
        via: 'other table',
      },
      {
        action: 'scheduler:DeleteSchedule',
        resource: `arn:aws:scheduler:${ENV.region}:${ENV.account}:schedule/${config.scheduleGroup}/Test-NightlyReport-1A2B3C`,
        via: 'a cron schedule of the group',
      },
      { action: 'scheduler:CreateSchedule', resource: schedule(config.scheduleGroup), via: 'create' },
      { action: 'scheduler:DeleteSchedule', resource: schedule(config.scheduleGroup), via: 'own group' },
    ];

    // Act
    const failures = await denied(
      requests,
      `arn:aws:iam::${ENV.account}:role/canceller`,
      policy,
      queuePolicies(resolver),
      ENV,
    );

    // Assess
    expect(failures.map((f) => `${f.request.via}: ${f.result}`)).toEqual([
      'other group: ImplicitlyDenied',
      'default group: ImplicitlyDenied',
      'other table: ImplicitlyDenied',
      'a cron schedule of the group: ImplicitlyDenied',
      'create: ImplicitlyDenied',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// The check itself can fail

describe('the policy check', () => {
  it('denies what a grant does not give: an operator command with producer rights', async () => {
    const policy = rolePolicy(resolver, roles.enqueuer);
    const requests: IamRequest[] = [
      { action: 'sqs:PurgeQueue', resource: config.lanes.default.dlqArn, via: 'dlq purge' },
      { action: 'sqs:SendMessage', resource: config.lanes.default.dlqArn, via: 'send to a DLQ' },
      // Cancelling is not a producer right (producers may UpdateItem the ledger, for debounce).
      {
        action: 'scheduler:DeleteSchedule',
        resource: `arn:aws:scheduler:us-east-1:111111111111:schedule/${config.scheduleGroup}/job-1`,
        via: 'cancel a delayed job',
      },
    ];
    const failures = await denied(
      requests,
      'arn:aws:iam::111111111111:role/p',
      policy,
      queuePolicies(resolver),
      ENV,
    );
    expect(failures.map((f) => f.result)).toEqual([
      'ImplicitlyDenied',
      'ImplicitlyDenied',
      'ImplicitlyDenied',
    ]);
  });

  it('lets producers pass the scheduler role to EventBridge Scheduler only', async () => {
    const policy = rolePolicy(resolver, roles.enqueuer);
    const passTo = (service: string): IamRequest => ({
      action: 'iam:PassRole',
      resource: config.schedulerRoleArn,
      context: { 'iam:PassedToService': service },
      via: service,
    });
    const failures = await denied(
      [passTo('scheduler.amazonaws.com'), passTo('lambda.amazonaws.com'), passTo('ec2.amazonaws.com')],
      'arn:aws:iam::111111111111:role/p',
      policy,
      queuePolicies(resolver),
      ENV,
    );
    expect(failures.map((f) => f.request.via)).toEqual(['lambda.amazonaws.com', 'ec2.amazonaws.com']);
  });

  it('sees the queue policy: plain HTTP is denied even with the grant', async () => {
    const policy = rolePolicy(resolver, roles.enqueuer);
    const request: IamRequest = {
      action: 'sqs:SendMessage',
      resource: config.lanes.default.queueArn,
      context: { 'aws:SecureTransport': 'false' },
      via: 'http',
    };
    const failures = await denied(
      [request],
      'arn:aws:iam::111111111111:role/p',
      policy,
      queuePolicies(resolver),
      ENV,
    );
    expect(failures.map((f) => f.result)).toEqual(['ExplicitlyDenied']);
  });
});

// ---------------------------------------------------------------------------------------------
// EventBridge Scheduler's role

describe('scheduler role', () => {
  it('may send to every lane and to the schedule DLQ, and nothing else', async () => {
    const requests: IamRequest[] = [
      ...Object.values(config.lanes).map((lane) => ({
        action: 'sqs:SendMessage',
        resource: lane.queueArn,
        via: 'scheduler target',
      })),
      { action: 'sqs:SendMessage', resource: config.scheduleDlqArn, via: 'scheduler dead-letter' },
    ];
    await expectExactGrants('scheduler', requests);
  });
});
