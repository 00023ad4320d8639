import { App, type CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ExampleJobsStack } from '../../../bin/example-stack';
import { retryHorizonSeconds } from '../../../lambdas/shared/backoff';
import { CONFIG_OUTPUT_DESCRIPTION, JobQueue } from '../../../lib';
import { oneLaneQueue, REGISTRY, unbundledStack } from './helpers';

// The example stack is synthesized once, with real esbuild bundling, and shared by the tests below.
let stack: ExampleJobsStack;
let template: Template;
beforeAll(() => {
  const app = new App();
  stack = new ExampleJobsStack(app, 'Example', { env: { account: '111111111111', region: 'us-east-1' } });
  template = Template.fromStack(stack);
});

/** Logical id of the lane's queue (or DLQ) in the example stack. */
function laneQueueId(lane: string, which: 'Queue' | 'DeadLetterQueue' = 'Queue'): string {
  const jobLane = stack.jobQueue.lane(lane);
  const construct = which === 'Queue' ? jobLane.queue : jobLane.deadLetterQueue;
  return stack.getLogicalId(construct.node.defaultChild as CfnElement);
}

describe('lanes', () => {
  it('creates a queue and a DLQ per lane plus the schedule DLQ (and the example DeadJobEvents queue)', () => {
    template.resourceCountIs('AWS::SQS::Queue', 4 * 2 + 1 + 1);
  });

  it('redrives each lane into its own DLQ after a backstop of maxAttempts × 2 + 10 receives', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [laneQueueId('high', 'DeadLetterQueue'), 'Arn'] },
        maxReceiveCount: 4 * 2 + 10,
      },
      SqsManagedSseEnabled: true,
      // 6 × 10 s consumer timeout + no batching window
      VisibilityTimeout: 60,
    });
  });

  it('keeps DLQ messages 14 days and lets only the source lane redrive into it', () => {
    const resources = template.toJSON().Resources;
    const dlq = resources[laneQueueId('default', 'DeadLetterQueue')];
    expect(dlq.Properties).toMatchObject({
      MessageRetentionPeriod: 14 * 24 * 3600,
      SqsManagedSseEnabled: true,
      RedriveAllowPolicy: { redrivePermission: 'byQueue' },
    });
    // The allowed source is exactly the lane queue: its ARN is built from the queue's generated name.
    const sources = dlq.Properties.RedriveAllowPolicy.sourceQueueArns;
    expect(sources).toHaveLength(1);
    expect(JSON.stringify(sources[0])).toContain(
      `:${resources[laneQueueId('default')].Properties.QueueName}"`,
    );
  });

  it('makes a FIFO lane and its DLQ FIFO, with content-based deduplication for Scheduler', () => {
    const resources = template.toJSON().Resources;
    expect(resources[laneQueueId('ordered')].Properties).toMatchObject({
      FifoQueue: true,
      ContentBasedDeduplication: true,
    });
    expect(resources[laneQueueId('ordered', 'DeadLetterQueue')].Properties).toMatchObject({
      FifoQueue: true,
    });
  });

  it('denies every queue action without TLS', () => {
    const policies = template.findResources('AWS::SQS::QueuePolicy');
    expect(Object.keys(policies)).toHaveLength(4 * 2 + 1 + 1);
    for (const policy of Object.values(policies)) {
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Action: 'sqs:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
    }
  });

  it('names only lane queues, from the construct path (the redrive-allow policy needs the name)', () => {
    const names = Object.values(template.findResources('AWS::SQS::Queue'))
      .map((queue) => queue.Properties.QueueName)
      .filter(Boolean);
    expect(names).toHaveLength(4);
    for (const name of names) expect(name).toMatch(/^ExampleJobsLane\w+[0-9A-F]{8}(\.fifo)?$/);
    expect(names.filter((n) => n.endsWith('.fifo'))).toHaveLength(1);
  });
});

describe('consumers', () => {
  it('runs each lane on an arm64 Node 24 Lambda (the newest, so the cdk-nag latest-runtime rules pass) with the lane settings in its environment', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Timeout: 10,
      MemorySize: 256,
      Environment: {
        Variables: Match.objectLike({
          JOBS_LANE: 'high',
          JOBS_MAX_ATTEMPTS: '4',
          JOBS_VISIBILITY_TIMEOUT_SECONDS: '60',
          JOBS_BACKOFF_BASE_SECONDS: '2',
          JOBS_BACKOFF_CAP_SECONDS: '300',
          JOBS_FIFO: 'false',
          JOBS_QUEUE_URL: { Ref: laneQueueId('high') },
          JOBS_DLQ_URL: { Ref: laneQueueId('high', 'DeadLetterQueue') },
          NODE_OPTIONS: '--enable-source-maps',
        }),
      },
    });
  });

  it('derives each lane maxConcurrency from its weight, at least 2', () => {
    // total 20, weights 6:3:1:1 → floor(20·w/11) = 10, 5, 1→2, 1→2
    const expected: Record<string, number> = { high: 10, default: 5, low: 2, ordered: 2 };
    for (const [lane, maxConcurrency] of Object.entries(expected)) {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [laneQueueId(lane), 'Arn'] },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: maxConcurrency },
        BatchSize: 10,
      });
    }
  });

  it('gives no FIFO event source a batching window', () => {
    const mapping = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')).find(
      (m) => m.Properties.EventSourceArn['Fn::GetAtt'][0] === laneQueueId('ordered'),
    );
    expect(mapping?.Properties.MaximumBatchingWindowInSeconds).toBeUndefined();
  });

  it('grants consumers only the ledger actions and queue actions the runtime uses', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      String(p.Properties.PolicyName).includes('LanehighConsumerRole'),
    );
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions).toEqual(
      expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:UpdateItem', 'sqs:ChangeMessageVisibility']),
    );
    // Claims and outcomes are updates; PutItem only for a group's callback or a chain's next step
    // (keyed jobs). See grants.test.ts for the full, simulated set.
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:BatchGetItem']));
    expect(actions).not.toContain('dynamodb:*');
    expect(actions.some((a) => a.startsWith('dynamodb:Delete') || a.startsWith('dynamodb:Scan'))).toBe(false);
    for (const statement of statements) expect(statement.Resource).not.toBe('*');
  });

  it('writes logs to a log group with a retention, not the managed basic-execution policy', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });
});

describe('ledger', () => {
  it('is an on-demand table keyed by jobId with TTL, PITR and encryption, retained by default', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: {
        KeySchema: [{ AttributeName: 'jobId', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
      },
    });
  });

  it('uses a table passed in instead of creating one', () => {
    const s = unbundledStack();
    const table = dynamodb.Table.fromTableName(s, 'Existing', 'jobs-ledger');
    new JobQueue(s, 'Jobs', { registryEntry: REGISTRY, lanes: [{ name: 'only' }], ledgerTable: table });
    const t = Template.fromStack(s);
    t.resourceCountIs('AWS::DynamoDB::Table', 0);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ JOBS_LEDGER_TABLE: 'jobs-ledger' }) },
    });
  });
});

describe('schedules', () => {
  it('puts one schedule group per queue and a cron schedule whose job id carries the scheduled time', () => {
    template.resourceCountIs('AWS::Scheduler::ScheduleGroup', 1);
    const schedule = Object.values(template.findResources('AWS::Scheduler::Schedule'))[0];
    const groupId = stack.getLogicalId(stack.jobQueue.scheduleGroup.node.defaultChild as CfnElement);
    expect(schedule.DependsOn).toContain(groupId);
    expect(schedule.Properties).toMatchObject({
      ScheduleExpression: 'cron(0 3 * * ? *)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: { 'Fn::GetAtt': [laneQueueId('low'), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: expect.anything() },
      },
    });
    const input = JSON.parse(schedule.Properties.Target.Input);
    expect(input).toMatchObject({ v: 1, type: 'nightly-cleanup', payload: { olderThanDays: 30 } });
    expect(input.id).toMatch(/^cron:.+:<aws\.scheduler\.scheduled-time>$/);
    expect(input.enqueuedAt).toBe('<aws.scheduler.scheduled-time>');
  });

  it('warns that a stack-managed one-time schedule is not deleted after firing', () => {
    const { stack: s, queue } = oneLaneQueue();
    queue.addSchedule('Once', {
      schedule: ScheduleExpression.at(new Date('2030-01-01T00:00:00Z')),
      jobType: 'send-email',
      payload: { to: 'a@example.com', subject: 'hi' },
    });
    Template.fromStack(s).hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'at(2030-01-01T00:00:00)',
    });
    Annotations.fromStack(s).hasWarning(
      '*',
      Match.stringLikeRegexp('one-time schedule in the stack is not deleted'),
    );
  });

  it('lets Scheduler send only to the lanes and the schedule DLQ, from this account', () => {
    const role = Object.values(template.findResources('AWS::IAM::Role')).find(
      (r) =>
        r.Properties.AssumeRolePolicyDocument.Statement[0].Principal.Service === 'scheduler.amazonaws.com',
    );
    expect(role?.Properties.AssumeRolePolicyDocument.Statement[0].Condition).toEqual({
      StringEquals: { 'aws:SourceAccount': '111111111111' },
    });
  });
});

describe('monitoring', () => {
  it('creates 7 alarms per lane and 5 for the scheduler, all notifying the alarm topic', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(4 * 7 + 5);
    const topicId = stack.getLogicalId(stack.jobQueue.monitoring.alarmTopic.node.defaultChild as CfnElement);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('alarms on any message in a DLQ, on the visible count', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        { Name: 'QueueName', Value: { 'Fn::GetAtt': [laneQueueId('high', 'DeadLetterQueue'), 'QueueName'] } },
      ],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
    });
  });

  it('alarms on depth above the threshold for 5 minutes and on age above the lane objective', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [laneQueueId('high'), 'QueueName'] } }],
      Threshold: 1000,
      Period: 60,
      EvaluationPeriods: 5,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [laneQueueId('high'), 'QueueName'] } }],
      Threshold: 60,
    });
  });

  it('alarms on DLQ growth over an hour with metric math, p99 over twice the baseline and scheduler drops', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 50,
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'DIFF(dlq)' })]),
    });
    // baseline = timeout / 4 = 2.5 s → threshold 5000 ms
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { ExtendedStatistic: 'p99', Threshold: 5000 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Scheduler',
      MetricName: 'InvocationDroppedCount',
      Threshold: 0,
    });
  });

  it('draws one dashboard with a row per lane and the job metrics by type', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const body = JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]);
    for (const word of [
      'Lane `high`',
      'Lane `ordered`',
      'JobDeadLettered',
      'JobDuplicateSkipped',
      'p99',
      '{SqsJobs,JobType,Lane}',
    ]) {
      expect(body).toContain(word);
    }
  });

  it('uses a given alarm topic and can turn alarms and the dashboard off', () => {
    const s = unbundledStack();
    const topic = new sns.Topic(s, 'Mine');
    new JobQueue(s, 'Jobs', {
      registryEntry: REGISTRY,
      lanes: [{ name: 'only' }],
      alarmTopic: topic,
      alarms: { enabled: false },
      dashboard: false,
    });
    const t = Template.fromStack(s);
    t.resourceCountIs('AWS::SNS::Topic', 1);
    t.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    t.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
  });
});

describe('outputs and grants', () => {
  it('publishes one JSON output with every lane, the table and the schedule group', () => {
    const outputs = Object.values(
      template.toJSON().Outputs as Record<string, { Description: string; Value: unknown }>,
    );
    const config = outputs.filter((o) => o.Description === CONFIG_OUTPUT_DESCRIPTION);
    expect(config).toHaveLength(1);
    const json = JSON.stringify(config[0].Value);
    for (const word of [
      'tableName',
      'schedulerRoleArn',
      'scheduleGroup',
      '\\"ordered\\"',
      'dlqUrl',
      'alarmTopicArn',
    ]) {
      expect(json).toContain(word);
    }
  });

  it('grants producers sending, ledger put/get, pass-role and creating schedules in the group only', () => {
    const { stack: s, queue } = oneLaneQueue();
    const producer = new iam.Role(s, 'Producer', { assumedBy: new iam.AccountRootPrincipal() });
    queue.grantEnqueue(producer);
    queue.grantStatusRead(producer);
    const statements = Object.values(Template.fromStack(s).findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('Producer'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    const actions = statements.flatMap((st) => [st.Action].flat());
    expect(actions).toEqual(
      expect.arrayContaining([
        'sqs:SendMessage',
        'sqs:GetQueueAttributes',
        'dynamodb:PutItem',
        'dynamodb:GetItem',
        'iam:PassRole',
        'scheduler:CreateSchedule',
      ]),
    );
    const createSchedule = statements.find((st) => st.Action === 'scheduler:CreateSchedule');
    expect(JSON.stringify(createSchedule.Resource)).toMatch(/schedule\/.*\/\*/);
  });
});

describe('cdk-nag', () => {
  it('reports no unacknowledged AwsSolutions or Serverless finding on the example stack', () => {
    for (const pack of [new AwsSolutionsChecks(), new ServerlessChecks()]) {
      const report = pack.validateScope(stack);
      expect(
        report.violations.map((v) => `${v.ruleName}: ${v.violatingResources[0]?.constructPath}`),
      ).toEqual([]);
    }
  });

  it('would report a finding on an insecure queue (the check can fail)', () => {
    const s = new Stack(new App(), 'Insecure');
    new sqs.Queue(s, 'Plain', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    const report = new AwsSolutionsChecks().validateScope(s);
    expect(report.violations.map((v) => v.ruleName)).toEqual(expect.arrayContaining(['AwsSolutions-SQS2']));
  });
});

describe('invariants', () => {
  it('derives the visibility timeout from the consumer timeout and batching window', () => {
    const { stack: s } = oneLaneQueue({
      consumerTimeout: Duration.seconds(30),
      maxBatchingWindow: Duration.seconds(5),
    });
    Template.fromStack(s).hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 6 * 30 + 5 });
  });

  it('computes the retry horizon as the sum of capped backoffs', () => {
    // The construct sums the waits after the first maxAttempts - 1 attempts.
    expect(retryHorizonSeconds(1 - 1, { baseSeconds: 5, capSeconds: 900 })).toBe(0);
    expect(retryHorizonSeconds(5 - 1, { baseSeconds: 5, capSeconds: 900 })).toBe(5 + 10 + 20 + 40);
    expect(retryHorizonSeconds(4 - 1, { baseSeconds: 100, capSeconds: 150 })).toBe(100 + 150 + 150);
  });
});
