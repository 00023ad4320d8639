/**
 * The end-to-end comparison stack: our JobQueue with one lane next to the consumer a careful CDK
 * user wires by hand (SQS queue + DLQ, NodejsFunction with an SqsEventSource reporting batch item
 * failures, Powertools batch + idempotency on a DynamoDB table). Both get the same memory, timeout,
 * batch size, maximum concurrency, redrive maxReceiveCount, runtime, architecture and bundling
 * (local esbuild, minified, source maps, AWS SDK left to the runtime), and run the same no-op job
 * (./jobs.ts), so the measured difference is the consumer runtime and its writes.
 *
 * Outputs: our JobQueue's config (JobClient.fromStack reads it) and the hand-wired queue, DLQ,
 * function and idempotency table (HANDWIRED_OUTPUTS).
 */
import * as path from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { JobQueue } from '../../lib';
import { DEFAULT_CONSUMER_RUNTIME, esbuildTarget } from '../../lib/private/job-lane';
import { IDEMPOTENCY_TABLE_ENV } from './jobs';
import { benchRegistry } from './registry';
import { E2E_SETTINGS, HANDWIRED_OUTPUTS } from './settings';

export class HandWiredComparisonStack extends Stack {
  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, props);
    const timeout = Duration.seconds(E2E_SETTINGS.timeoutSeconds);

    // Ours: one lane; its share of totalConcurrency is the whole budget.
    const jobQueue = new JobQueue(this, 'Jobs', {
      registryEntry: path.join(__dirname, 'registry.ts'),
      registryExport: 'benchRegistry',
      registry: benchRegistry,
      lanes: [{ name: E2E_SETTINGS.lane }],
      totalConcurrency: E2E_SETTINGS.maxConcurrency,
      consumerMemorySize: E2E_SETTINGS.memoryMb,
      consumerTimeout: timeout,
      batchSize: E2E_SETTINGS.batchSize,
      ledgerTtl: Duration.days(1),
      removalPolicy: RemovalPolicy.DESTROY,
      ledgerRemovalPolicy: RemovalPolicy.DESTROY,
      dashboard: false,
      alarms: { enabled: false },
    });
    const lane = jobQueue.lanes.get(E2E_SETTINGS.lane);
    if (!lane) throw new Error(`JobQueue has no ${E2E_SETTINGS.lane} lane`);

    // Hand-wired: what the user writes without the library.
    const dlq = new sqs.Queue(this, 'HandWiredDlq', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const queue = new sqs.Queue(this, 'HandWiredQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // AWS's advice for SQS event sources, as ours: 6 × the function timeout.
      visibilityTimeout: lane.visibilityTimeout,
      deadLetterQueue: { queue: dlq, maxReceiveCount: lane.maxReceiveCount ?? 10 },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const idempotency = new dynamodb.TableV2(this, 'HandWiredIdempotency', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'expiration',
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const runtime = DEFAULT_CONSUMER_RUNTIME;
    const consumer = new NodejsFunction(this, 'HandWiredConsumer', {
      entry: path.join(__dirname, 'consumer.ts'),
      handler: 'handler',
      runtime,
      architecture: lambda.Architecture.ARM_64,
      memorySize: E2E_SETTINGS.memoryMb,
      timeout,
      environment: {
        [IDEMPOTENCY_TABLE_ENV]: idempotency.tableName,
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        minify: true,
        sourceMap: true,
        target: esbuildTarget(runtime),
        format: OutputFormat.CJS,
        externalModules: ['@aws-sdk/*'],
        forceDockerBundling: false,
      },
    });
    idempotency.grantReadWriteData(consumer);
    consumer.addEventSource(
      new SqsEventSource(queue, {
        batchSize: E2E_SETTINGS.batchSize,
        reportBatchItemFailures: true,
        maxConcurrency: E2E_SETTINGS.maxConcurrency,
      }),
    );

    new CfnOutput(this, HANDWIRED_OUTPUTS.queueUrl, { value: queue.queueUrl });
    new CfnOutput(this, HANDWIRED_OUTPUTS.dlqUrl, { value: dlq.queueUrl });
    new CfnOutput(this, HANDWIRED_OUTPUTS.functionName, { value: consumer.functionName });
    new CfnOutput(this, HANDWIRED_OUTPUTS.idempotencyTable, { value: idempotency.tableName });
  }
}
