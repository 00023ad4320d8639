/**
 * The construct API a CDK user meets in their own app: a producer in a second stack (or app) that
 * imports the queue, grants and schedules on the import, metric methods, the KMS key option and
 * cdk-nag findings the library does not hide.
 */
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { registry } from '../../../bin/jobs';
import { defineJob, defineRegistry } from '../../../lambdas/registry';
import { PRODUCER_ENV } from '../../../lambdas/shared/contract';
import { type IJobQueue, JobQueue, type JobQueueConfig, JobQueueConfigError } from '../../../lib';
import { REGISTRY } from './helpers';

const ENV = { account: '111111111111', region: 'us-east-1' };

/** A registry whose jobs all run in the default lane (the only lane of PUBLISHED). */
const nightly = defineRegistry([
  defineJob({
    type: 'nightly-cleanup',
    schema: z.object({ olderThanDays: z.number().int().positive() }),
    handler: async () => undefined,
  }),
]);

/** An app without bundling, a queue stack and a producer stack. */
function twoStacks(): { app: App; queueStack: Stack; producerStack: Stack; jobs: JobQueue } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const queueStack = new Stack(app, 'Queues', { env: ENV });
  const jobs = new JobQueue(queueStack, 'Jobs', {
    registryEntry: REGISTRY,
    lanes: [{ name: 'default' }, { name: 'ordered', fifo: true }],
  });
  const producerStack = new Stack(app, 'Producer', { env: ENV });
  return { app, queueStack, producerStack, jobs };
}

function producerFunction(stack: Stack): lambda.Function {
  return new lambda.Function(stack, 'Producer', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => {}'),
  });
}

/** The policy statements attached to a stack's roles, flattened. */
function statements(stack: Stack): { Action: string | string[]; Resource: unknown }[] {
  const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy');
  return Object.values(policies).flatMap(
    (policy) =>
      (policy as { Properties: { PolicyDocument: { Statement: [] } } }).Properties.PolicyDocument.Statement,
  );
}

function actions(stack: Stack): string[] {
  return statements(stack).flatMap((st) => (Array.isArray(st.Action) ? st.Action : [st.Action]));
}

/** A config as the owning stack publishes it (literal values, as another app would read them). */
const PUBLISHED: JobQueueConfig = {
  version: 1,
  tableName: 'Queues-Ledger-ABC',
  defaultLane: 'default',
  lanes: {
    default: {
      queueUrl: 'https://sqs.us-east-1.amazonaws.com/111111111111/Queues-default',
      queueArn: 'arn:aws:sqs:us-east-1:111111111111:Queues-default',
      dlqUrl: 'https://sqs.us-east-1.amazonaws.com/111111111111/Queues-default-dlq',
      dlqArn: 'arn:aws:sqs:us-east-1:111111111111:Queues-default-dlq',
      fifo: false,
      maxAttempts: 4,
      maxReceiveCount: 18,
      functionName: 'Queues-default-consumer',
    },
  },
  scheduleGroup: 'Queues-Schedules',
  schedulerRoleArn: 'arn:aws:iam::111111111111:role/Queues-SchedulerRole',
  scheduleDlqArn: 'arn:aws:sqs:us-east-1:111111111111:Queues-schedule-dlq',
  alarmTopicArn: 'arn:aws:sns:us-east-1:111111111111:Queues-alarms',
  ledgerTtlSeconds: 86_400 * 30,
};

describe('a producer in another stack', () => {
  it('enqueues through fromJobQueueAttributes and a grant, with cross-stack references', () => {
    // Arrange
    const { app, producerStack, jobs } = twoStacks();
    const imported = JobQueue.fromJobQueueAttributes(producerStack, 'Jobs', {
      ledgerTableArn: jobs.ledgerTable.tableArn,
      lanes: Object.fromEntries(
        jobs.laneNames.map((name) => [
          name,
          {
            queueArn: jobs.lane(name).queue.queueArn,
            queueUrl: jobs.lane(name).queue.queueUrl,
            deadLetterQueueArn: jobs.lane(name).deadLetterQueue.queueArn,
            fifo: jobs.lane(name).fifo,
          },
        ]),
      ),
      scheduleGroupName: jobs.scheduleGroup.scheduleGroupName,
      schedulerRoleArn: jobs.schedulerRole.roleArn,
      scheduleDeadLetterQueueArn: jobs.scheduleDeadLetterQueue.queueArn,
    });
    const fn = producerFunction(producerStack);

    // Act
    imported.configureProducer(fn);
    app.synth();

    // Assess: the producer's grants name the queue stack's resources through imports
    const granted = actions(producerStack);
    expect(granted).toEqual(
      expect.arrayContaining([
        'sqs:SendMessage',
        'sqs:GetQueueAttributes',
        'dynamodb:PutItem',
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'scheduler:CreateSchedule',
        'iam:PassRole',
      ]),
    );
    expect(granted).not.toContain('cloudformation:DescribeStacks');
    expect(JSON.stringify(statements(producerStack))).toContain('Fn::ImportValue');
    const env = Template.fromStack(producerStack).findResources('AWS::Lambda::Function');
    const variables = Object.values(env)[0] as {
      Properties: { Environment: { Variables: Record<string, unknown> } };
    };
    const config = JSON.stringify(variables.Properties.Environment.Variables[PRODUCER_ENV.config]);
    expect(config).toContain('ordered');
    expect(config).toContain('Fn::ImportValue');
    // Nothing of the queue was created in the producer stack
    Template.fromStack(producerStack).resourceCountIs('AWS::SQS::Queue', 0);
    Template.fromStack(producerStack).resourceCountIs('AWS::DynamoDB::Table', 0);
  });

  it('imports the published config JSON of a queue deployed by another app', () => {
    // Arrange
    const stack = new Stack(new App(), 'OtherApp', { env: ENV });
    const imported = JobQueue.fromJobQueueConfig(stack, 'Jobs', PUBLISHED, { stackName: 'Queues' });
    const fn = producerFunction(stack);

    // Act
    imported.grantEnqueue(fn);
    imported.grantStatusRead(fn);

    // Assess
    const all = statements(stack);
    const send = all.find((st) => JSON.stringify(st.Action).includes('sqs:SendMessage'));
    expect(send?.Resource).toBe(PUBLISHED.lanes.default.queueArn);
    const describe = all.find((st) => st.Action === 'cloudformation:DescribeStacks');
    expect(JSON.stringify(describe?.Resource)).toContain(':stack/Queues/*');
    const table = all.find((st) => JSON.stringify(st.Action).includes('dynamodb:PutItem'));
    expect(JSON.stringify(table?.Resource)).toContain(':table/Queues-Ledger-ABC');
    expect(imported.config.lanes.default).toEqual(PUBLISHED.lanes.default);
    expect(imported.lane('default').maxAttempts).toBe(4);
    expect(imported.defaultLane).toBe('default');
  });

  it('schedules a job into an imported lane with the owning queue role, group and DLQ', () => {
    // Arrange
    const stack = new Stack(new App(), 'OtherApp', { env: ENV });
    const imported = JobQueue.fromJobQueueConfig(stack, 'Jobs', PUBLISHED, { registry: nightly });

    // Act
    imported.addSchedule('Nightly', {
      schedule: ScheduleExpression.expression('cron(0 3 * * ? *)'),
      jobType: 'nightly-cleanup',
      payload: { olderThanDays: 30 },
    });

    // Assess
    Template.fromStack(stack).hasResourceProperties('AWS::Scheduler::Schedule', {
      GroupName: 'Queues-Schedules',
      Target: {
        Arn: PUBLISHED.lanes.default.queueArn,
        RoleArn: PUBLISHED.schedulerRoleArn,
        DeadLetterConfig: { Arn: PUBLISHED.scheduleDlqArn },
      },
    });
    // The imported role is not modified: no policy in this app
    Template.fromStack(stack).resourceCountIs('AWS::IAM::Policy', 0);
  });

  it('checks an imported schedule against the registry at synth time', () => {
    const stack = new Stack(new App(), 'OtherApp', { env: ENV });
    const imported = JobQueue.fromJobQueueConfig(stack, 'Jobs', PUBLISHED, { registry: nightly });
    expect(() =>
      imported.addSchedule('Bad', {
        schedule: ScheduleExpression.expression('cron(0 3 * * ? *)'),
        jobType: 'no-such-job',
      }),
    ).toThrow(/no-such-job/);
  });

  it('rejects an import without lanes or with an unknown default lane, naming the field', () => {
    const stack = new Stack(new App(), 'OtherApp', { env: ENV });
    const base = { ...PUBLISHED };
    expect(() => JobQueue.fromJobQueueConfig(stack, 'NoLanes', { ...base, lanes: {} })).toThrow(
      new JobQueueConfigError('lanes', 'at least one lane (name → queue and DLQ ARNs)', {}),
    );
    expect(() =>
      JobQueue.fromJobQueueConfig(stack, 'BadDefault', { ...base, defaultLane: 'urgent' }),
    ).toThrow(/defaultLane must be one of default; got "urgent"/);
    expect(() => JobQueue.fromJobQueueConfig(stack, 'Ok', base).lane('urgent')).toThrow(
      /lane must be one of default; got "urgent"/,
    );
    const zeroAttempts = { ...base, lanes: { default: { ...base.lanes.default, maxAttempts: 0 } } };
    expect(() => JobQueue.fromJobQueueConfig(stack, 'ZeroAttempts', zeroAttempts)).toThrow(
      /lanes\.default\.maxAttempts must be an integer from 1 to 995; got 0/,
    );
  });
});

describe('metric methods', () => {
  function queue(): IJobQueue {
    const { jobs } = twoStacks();
    return jobs;
  }

  it('returns the lane queue metrics with a one-minute Maximum', () => {
    const jobs = queue();
    const depth = jobs.metricQueueDepth('default');
    expect(depth.namespace).toBe('AWS/SQS');
    expect(depth.metricName).toBe('ApproximateNumberOfMessagesVisible');
    expect(depth.statistic).toBe('Maximum');
    expect(depth.period.toSeconds()).toBe(60);
    expect(jobs.metricAgeOfOldestJob('default').metricName).toBe('ApproximateAgeOfOldestMessage');
    const dlq = jobs.metricDeadLetterQueueDepth('ordered', { period: Duration.hours(1) });
    expect(dlq.period.toSeconds()).toBe(3600);
    expect(JSON.stringify(Stack.of(jobs).resolve(dlq.dimensions))).toContain('DeadLetterQueue');
  });

  it('returns job metrics with exactly the {JobType, Lane} dimensions the consumer emits', () => {
    const jobs = queue();
    const succeeded = jobs.metricJobsSucceeded('send-email');
    expect(succeeded).toBeInstanceOf(cloudwatch.Metric);
    expect(succeeded.namespace).toBe('SqsJobs');
    expect(succeeded.metricName).toBe('JobSucceeded');
    expect(succeeded.dimensions).toEqual({ JobType: 'send-email', Lane: 'default' });
    expect(succeeded.statistic).toBe('Sum');
    expect(jobs.metricJobsFailed('send-email', { lane: 'ordered' }).dimensions).toEqual({
      JobType: 'send-email',
      Lane: 'ordered',
    });
    expect(jobs.metricJobsRetried('x').metricName).toBe('JobRetried');
    expect(jobs.metricJobsDeadLettered('x').metricName).toBe('JobDeadLettered');
    const duration = jobs.metricJobDuration('x', { statistic: 'p50' });
    expect(duration.metricName).toBe('JobDuration');
    expect(duration.statistic).toBe('p50');
    expect(() => jobs.metricJobsSucceeded('x', { lane: 'nope' })).toThrow(
      /lane must be one of default, ordered/,
    );
  });

  it("takes a job's lane from the registry when the queue has one", () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'S', { env: ENV });
    const jobs = new JobQueue(stack, 'Jobs', {
      registryEntry: REGISTRY,
      registry,
      lanes: [{ name: 'high' }, { name: 'default' }, { name: 'low' }, { name: 'ordered', fifo: true }],
      metricsNamespace: 'Shop',
    });
    const [type, definition] = registry.types
      .map((t) => [t, registry.get(t)] as const)
      .find(([, d]) => d?.lane && d.lane !== 'default') ?? ['', undefined];
    expect(definition?.lane, 'the example registry has a job outside the default lane').toBeDefined();
    const metric = jobs.metricJobsSucceeded(type);
    expect(metric.dimensions).toEqual({ JobType: type, Lane: definition?.lane });
    expect(metric.namespace).toBe('Shop');
  });

  it("feeds the library's own alarms: the depth alarm is the metric method's metric", () => {
    const { queueStack, jobs } = twoStacks();
    const alarm = jobs.monitoring.alarms.get('default/depth')?.node.defaultChild as cloudwatch.CfnAlarm;
    const expected = jobs.metricQueueDepth('default');
    expect(alarm.metricName).toBe(expected.metricName);
    expect(alarm.namespace).toBe(expected.namespace);
    expect(alarm.statistic).toBe(expected.statistic);
    expect(alarm.period).toBe(expected.period.toSeconds());
    expect(queueStack.resolve(alarm.dimensions)).toEqual(
      queueStack.resolve(Object.entries(expected.dimensions ?? {}).map(([name, value]) => ({ name, value }))),
    );
  });
});

describe('a customer-managed KMS key', () => {
  function encrypted(): {
    stack: Stack;
    jobs: JobQueue;
    key: kms.Key;
    template: Template;
    fn: lambda.Function;
  } {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Encrypted', { env: ENV });
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const jobs = new JobQueue(stack, 'Jobs', {
      registryEntry: REGISTRY,
      lanes: [{ name: 'only' }],
      encryptionKey: key,
    });
    const fn = producerFunction(stack);
    jobs.grantEnqueue(fn);
    return { stack, jobs, key, fn, template: Template.fromStack(stack) };
  }

  it('encrypts every queue, the ledger and the consumer log group with the key', () => {
    const { stack, key, template } = encrypted();
    const keyArn = stack.resolve(key.keyArn);
    const queues = Object.values(template.findResources('AWS::SQS::Queue'));
    expect(queues).toHaveLength(3);
    for (const q of queues) {
      expect((q as { Properties: { KmsMasterKeyId: unknown } }).Properties.KmsMasterKeyId).toEqual(keyArn);
    }
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: keyArn });
  });

  it('lets CloudWatch Logs use the key for log groups of this account only', () => {
    const { template } = encrypted();
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
            Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': Match.anyValue() } },
          }),
        ]),
      },
    });
  });

  it('grants the key to the consumers, the scheduler role and producers', () => {
    const { stack, jobs, fn } = encrypted();
    const policies = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')) as {
      Properties: { Roles: unknown[]; PolicyDocument: { Statement: { Action: string | string[] }[] } };
    }[];
    const kmsActionsOf = (roleRef: unknown) =>
      policies
        .filter((p) => JSON.stringify(p.Properties.Roles).includes(JSON.stringify(roleRef)))
        .flatMap((p) => p.Properties.PolicyDocument.Statement)
        .flatMap((st) => (Array.isArray(st.Action) ? st.Action : [st.Action]))
        .filter((a) => a.startsWith('kms:'));
    const ref = (role: { roleName: string }) => stack.resolve(role.roleName);
    const consumerRole = jobs.lane('only').consumer.role;
    expect(consumerRole).toBeDefined();
    for (const role of [consumerRole, jobs.schedulerRole, fn.role]) {
      const granted = kmsActionsOf(ref(role as unknown as { roleName: string }));
      expect(granted).toEqual(expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey*']));
    }
  });

  it('keeps SQS-managed encryption without a key', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Plain', { env: ENV });
    new JobQueue(stack, 'Jobs', { registryEntry: REGISTRY, lanes: [{ name: 'only' }] });
    const template = Template.fromStack(stack);
    template.allResourcesProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    template.resourceCountIs('AWS::KMS::Key', 0);
  });
});

describe('cdk-nag acknowledgements', () => {
  it("does not hide the user's runtime choice: an older Node.js runtime is reported", () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'OldRuntime', { env: ENV });
    new JobQueue(stack, 'Jobs', {
      registryEntry: path.resolve(REGISTRY),
      lanes: [{ name: 'only' }],
      consumerRuntime: lambda.Runtime.NODEJS_22_X,
    });
    const rules = [new AwsSolutionsChecks(), new ServerlessChecks()].flatMap((pack) =>
      pack.validateScope(stack).violations.map((v) => v.ruleName),
    );
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-L1', 'Serverless-LambdaLatestVersion']));
  });

  it('rejects a runtime that is not Node.js, naming the prop', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Py', { env: ENV });
    expect(
      () =>
        new JobQueue(stack, 'Jobs', {
          registryEntry: REGISTRY,
          lanes: [{ name: 'only' }],
          consumerRuntime: lambda.Runtime.PYTHON_3_13,
        }),
    ).toThrow(
      /consumerRuntime must be a Node.js runtime such as lambda.Runtime.NODEJS_24_X; got "python3.13"/,
    );
  });
});
