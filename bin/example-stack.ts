/** The deployable example: a JobQueue with four lanes (one FIFO), example jobs and a nightly cron. */
import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import type { Construct } from 'constructs';
import { JobQueue } from '../lib';
import { registry } from './jobs';

export interface ExampleJobsStackProps extends StackProps {
  /**
   * Delete the ledger table and the queues with the stack (for throwaway LocalStack and test
   * deployments); otherwise they are retained, as the library does by default.
   *
   * @default false
   */
  readonly destroyLedgerOnDelete?: boolean;
}

export class ExampleJobsStack extends Stack {
  public readonly jobQueue: JobQueue;

  constructor(scope: Construct, id: string, props: ExampleJobsStackProps = {}) {
    super(scope, id, props);
    this.jobQueue = new JobQueue(this, 'Jobs', {
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
    });
    this.jobQueue.addSchedule('NightlyCleanup', {
      schedule: ScheduleExpression.expression('cron(0 3 * * ? *)'),
      jobType: 'nightly-cleanup',
      lane: 'low',
      payload: { olderThanDays: 30 },
    });
  }
}
