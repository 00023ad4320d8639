/** The deployable example: a JobQueue with four lanes (one FIFO), example jobs and a nightly cron. */
import * as path from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { JobQueue, LIFECYCLE_EVENTS, type MonitoringProfile } from '../lib';
import { registry } from './jobs';

export interface ExampleJobsStackProps extends StackProps {
  /**
   * Delete the ledger table and the queues with the stack (for throwaway LocalStack and test
   * deployments); otherwise they are retained, as the library does by default.
   *
   * @default false
   */
  readonly destroyLedgerOnDelete?: boolean;

  /**
   * The JobQueue's `monitoringProfile` (the bench prices both).
   *
   * @default 'full'
   */
  readonly monitoringProfile?: MonitoringProfile;
}

export class ExampleJobsStack extends Stack {
  public readonly jobQueue: JobQueue;

  constructor(scope: Construct, id: string, props: ExampleJobsStackProps = {}) {
    super(scope, id, props);
    // The jobs' own side effects (bin/jobs.ts recordRun): how many times each job ran, counted
    // outside the ledger, so "exactly once" can be checked from the outside.
    const sideEffects = new dynamodb.Table(this, 'SideEffects', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: props.destroyLedgerOnDelete ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    this.jobQueue = new JobQueue(this, 'Jobs', {
      consumerEnvironment: { SIDE_EFFECTS_TABLE: sideEffects.tableName },
      registryEntry: path.join(__dirname, 'jobs.ts'),
      // The same registry as an object: schedules and job lanes are checked against it at synth.
      registry,
      lanes: [
        { name: 'high', weight: 6, maxAttempts: 4, messageAgeObjective: Duration.minutes(1) },
        { name: 'default', weight: 3, maxAttempts: 4 },
        { name: 'low', weight: 1, maxAttempts: 4, messageAgeObjective: Duration.hours(1) },
        { name: 'ordered', weight: 1, maxAttempts: 4, fifo: true },
      ],
      totalConcurrency: 20,
      // The search index behind `sqs-jobs jobs list` and JobClient.listJobs (3 index writes per job).
      jobSearch: true,
      // Short timeouts keep the derived visibility timeout (6 × 10 s) small for the demo and tests.
      consumerTimeout: Duration.seconds(10),
      backoff: { base: Duration.seconds(2), cap: Duration.minutes(5) },
      removalPolicy: props.destroyLedgerOnDelete ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      // Job Succeeded / Dead-Lettered / Cancelled events on the default event bus.
      lifecycleEvents: true,
      monitoringProfile: props.monitoringProfile,
    });
    for (const lane of this.jobQueue.lanes.values()) sideEffects.grant(lane.consumer, 'dynamodb:UpdateItem');
    new CfnOutput(this, 'SideEffectsTable', {
      description: 'Runs of each example job, counted by the jobs themselves (bin/jobs.ts)',
      value: sideEffects.tableName,
    });
    this.addDeadJobEventsQueue(props);
    this.jobQueue.addSchedule('NightlyCleanup', {
      schedule: ScheduleExpression.expression('cron(0 3 * * ? *)'),
      jobType: 'nightly-cleanup',
      lane: 'low',
      payload: { olderThanDays: 30 },
    });
  }

  /**
   * A demonstration of lifecycle events: a rule sends every `Job Dead-Lettered` event of this
   * queue into the `DeadJobEvents` queue (its URL is the `DeadJobEventsQueueUrl` output), where an
   * on-call tool, or the integration tests, can read them.
   */
  private addDeadJobEventsQueue(props: ExampleJobsStackProps): void {
    const queue = new sqs.Queue(this, 'DeadJobEvents', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(4),
      removalPolicy: props.destroyLedgerOnDelete ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    Validations.of(queue).acknowledge(
      {
        id: 'AwsSolutions-SQS3',
        reason:
          'A demonstration sink of lifecycle events: the jobs themselves are kept by their lanes and DLQs.',
      },
      {
        id: 'Serverless-SQSRedrivePolicy',
        reason:
          'A demonstration sink of lifecycle events: the jobs themselves are kept by their lanes and DLQs.',
      },
    );
    const rule = new events.Rule(this, 'DeadJobEventsRule', {
      description: 'Job Dead-Lettered events of the example queue, into the DeadJobEvents queue',
      eventPattern: {
        source: [LIFECYCLE_EVENTS.source],
        detailType: [LIFECYCLE_EVENTS.detailTypes.DEAD],
      },
      targets: [new targets.SqsQueue(queue)],
    });
    Validations.of(rule).acknowledge({
      id: 'Serverless-EventBusDLQ',
      reason:
        'A demonstration rule: an event EventBridge cannot deliver after its retries is only a notification; the job stays DEAD in the ledger and its lane DLQ.',
    });
    new CfnOutput(this, 'DeadJobEventsQueueUrl', {
      description: 'Queue receiving the Job Dead-Lettered lifecycle events',
      value: queue.queueUrl,
    });
  }
}
