// A trivial CDK app exercising what the real stack uses on LocalStack: NodejsFunction (local
// esbuild bundling, @aws-sdk external), SQS + DLQ, SQS event source with partial batch
// responses, DynamoDB, EventBridge Scheduler (L2), CloudWatch alarm + SNS action + dashboard.
// Deployed by scripts/localstack/cdk-smoke.sh with cdklocal.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const cdk = require('aws-cdk-lib');
const { Queue } = require('aws-cdk-lib/aws-sqs');
const { Table, AttributeType, BillingMode } = require('aws-cdk-lib/aws-dynamodb');
const { NodejsFunction } = require('aws-cdk-lib/aws-lambda-nodejs');
const { Runtime } = require('aws-cdk-lib/aws-lambda');
const { SqsEventSource } = require('aws-cdk-lib/aws-lambda-event-sources');
const { Schedule, ScheduleExpression, ScheduleTargetInput } = require('aws-cdk-lib/aws-scheduler');
const { SqsSendMessage } = require('aws-cdk-lib/aws-scheduler-targets');
const cw = require('aws-cdk-lib/aws-cloudwatch');
const { SnsAction } = require('aws-cdk-lib/aws-cloudwatch-actions');
const { Topic } = require('aws-cdk-lib/aws-sns');

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..', '..');
const app = new cdk.App();
const stack = new cdk.Stack(app, process.env.CDK_SMOKE_STACK || 'SqsJobsCdkSmoke', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
const dlq = new Queue(stack, 'Dlq', { retentionPeriod: cdk.Duration.days(14) });
const queue = new Queue(stack, 'Queue', {
  visibilityTimeout: cdk.Duration.seconds(30),
  deadLetterQueue: { queue: dlq, maxReceiveCount: 3 },
});
const table = new Table(stack, 'Table', {
  partitionKey: { name: 'pk', type: AttributeType.STRING },
  billingMode: BillingMode.PAY_PER_REQUEST,
  timeToLiveAttribute: 'ttl',
  removalPolicy: cdk.RemovalPolicy.DESTROY,
});
const fn = new NodejsFunction(stack, 'Consumer', {
  entry: path.join(here, 'handler.js'),
  runtime: Runtime.NODEJS_22_X,
  timeout: cdk.Duration.seconds(5),
  projectRoot: root,
  depsLockFilePath: path.join(root, 'package-lock.json'),
  environment: { TABLE_NAME: table.tableName },
  bundling: { externalModules: ['@aws-sdk/*'] },
});
table.grantWriteData(fn);
fn.addEventSource(
  new SqsEventSource(queue, { batchSize: 5, reportBatchItemFailures: true, maxConcurrency: 2 }),
);
new Schedule(stack, 'Every5Min', {
  schedule: ScheduleExpression.rate(cdk.Duration.minutes(5)),
  target: new SqsSendMessage(queue, { input: ScheduleTargetInput.fromText('from-schedule') }),
});
const topic = new Topic(stack, 'Alarms');
const alarm = new cw.Alarm(stack, 'DlqDepth', {
  metric: dlq.metricApproximateNumberOfMessagesVisible({ period: cdk.Duration.minutes(1) }),
  threshold: 1,
  evaluationPeriods: 1,
  comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
});
alarm.addAlarmAction(new SnsAction(topic));
new cw.Dashboard(stack, 'Dashboard', {
  widgets: [[new cw.GraphWidget({ left: [queue.metricApproximateNumberOfMessagesVisible()] })]],
});
new cdk.CfnOutput(stack, 'QueueUrl', { value: queue.queueUrl });
new cdk.CfnOutput(stack, 'TableName', { value: table.tableName });
new cdk.CfnOutput(stack, 'FunctionName', { value: fn.functionName });
app.synth();
