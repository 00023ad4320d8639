/**
 * One priority lane: the SQS queue, its dead-letter queue and the consumer Lambda that drains it.
 * Created by JobQueue in a loop over the resolved lane definitions; not meant to be built alone.
 */
import { Duration, Names, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CONSUMER_ENV } from '../../lambdas/shared/contract';
import { JobQueueConfigError } from '../errors';
import type { IMonitoredJobLane } from '../interfaces';
import { DLQ_RETENTION, type ResolvedLane } from '../lanes';
import type { ConsumerEntry } from './consumer-entry';

/** The consumer settings JobQueue resolves from its props (defaults applied, checked). */
export interface ConsumerSettings {
  readonly consumerTimeout: Duration;
  readonly memorySize: number;
  readonly batchParallelism: number;
  readonly backoffBase: Duration;
  readonly backoffCap: Duration;
  readonly ledgerTtl: Duration;
  /** Applied to the lane queue and its DLQ (see JobQueueProps.removalPolicy). */
  readonly removalPolicy: RemovalPolicy;
  readonly metricsNamespace: string;
  /** The consumers emit per-job-type EMF metrics (JobQueueProps.jobMetrics). */
  readonly jobMetrics: boolean;
  /** POWERTOOLS_LOG_LEVEL of the consumers (JobQueueProps.consumerLogLevel). */
  readonly consumerLogLevel: string;
}

/** What every lane shares: the consumer's code and runtime settings. */
export interface JobLaneProps extends ConsumerSettings {
  readonly lane: ResolvedLane;
  /** Generated consumer entry (runtime around the user's registry) and its project. */
  readonly entry: ConsumerEntry;
  readonly ledgerTableName: string;
  readonly serviceName: string;
  readonly bundleAwsSdk: boolean;
  readonly logRetention: logs.RetentionDays;
  readonly runtime: lambda.Runtime;
  readonly environment: Record<string, string>;
  /** The ledger has the search index: the consumer sets its keys on status writes. */
  readonly searchIndex: boolean;
  /** Customer-managed key for the queues and the log group (JobQueueProps.encryptionKey). */
  readonly encryptionKey?: kms.IKey;
}

/** Visibility timeout: 6 × consumer timeout + batching window, as AWS recommends for SQS event sources. */
export function deriveVisibilityTimeout(consumerTimeout: Duration, batchingWindow: Duration): Duration {
  return Duration.seconds(6 * consumerTimeout.toSeconds() + batchingWindow.toSeconds());
}

export class JobLane extends Construct implements IMonitoredJobLane {
  public readonly name: string;
  public readonly fifo: boolean;
  public readonly maxAttempts: number;
  public readonly maxReceiveCount: number;
  /** Every resolved lane setting (weight, alarm thresholds, batching). */
  public readonly settings: ResolvedLane;
  public readonly depthAlarmThreshold: number;
  public readonly messageAgeObjective: Duration;
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly consumer: NodejsFunction;
  public readonly visibilityTimeout: Duration;

  constructor(scope: Construct, id: string, props: JobLaneProps) {
    super(scope, id);
    const { lane } = props;
    this.name = lane.name;
    this.fifo = lane.fifo;
    this.maxAttempts = lane.maxAttempts;
    this.maxReceiveCount = lane.maxReceiveCount;
    this.settings = lane;
    this.depthAlarmThreshold = lane.depthAlarmThreshold;
    this.messageAgeObjective = lane.messageAgeObjective;
    this.visibilityTimeout = deriveVisibilityTimeout(props.consumerTimeout, lane.maxBatchingWindow);

    const queueSecurity = {
      ...queueEncryption(props.encryptionKey),
      enforceSSL: true,
      fifo: lane.fifo || undefined,
    };
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      ...queueSecurity,
      retentionPeriod: DLQ_RETENTION,
      removalPolicy: props.removalPolicy,
    });
    // The DLQ's redrive-allow policy names its source queue, and the source's redrive policy names
    // the DLQ: referencing both ways would be a cycle, so the source queue gets a name generated
    // from its construct path (unique per stack, never hand-written) and its ARN is built from it.
    const queueName =
      Names.uniqueResourceName(this, { maxLength: lane.fifo ? 75 : 80 }) + (lane.fifo ? '.fifo' : '');
    this.queue = new sqs.Queue(this, 'Queue', {
      ...queueSecurity,
      queueName,
      retentionPeriod: lane.retentionPeriod,
      visibilityTimeout: this.visibilityTimeout,
      // A backstop above maxAttempts: the ledger counts attempts, and receives that used none
      // (deferrals) must not dead-letter a job early.
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: lane.maxReceiveCount },
      // A renamed lane or a switch to FIFO is a new queue; RETAIN keeps the old one and its messages.
      removalPolicy: props.removalPolicy,
      // Scheduler can only target FIFO queues with content-based deduplication; explicit ids still win.
      contentBasedDeduplication: lane.fifo ? true : undefined,
    });
    const dlqResource = this.deadLetterQueue.node.defaultChild as sqs.CfnQueue;
    dlqResource.redriveAllowPolicy = {
      redrivePermission: 'byQueue',
      sourceQueueArns: [Stack.of(this).formatArn({ service: 'sqs', resource: queueName })],
    };

    const logGroup = new logs.LogGroup(this, 'ConsumerLogs', {
      retention: props.logRetention,
      encryptionKey: props.encryptionKey,
    });
    // An explicit role keeps log permissions to this log group instead of the broad managed policy.
    const role = new iam.Role(this, 'ConsumerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Consumer of the ${lane.name} job lane`,
    });
    logGroup.grantWrite(role);

    this.consumer = new NodejsFunction(this, 'Consumer', {
      entry: props.entry.entry,
      projectRoot: props.entry.projectRoot,
      depsLockFilePath: props.entry.depsLockFilePath,
      handler: 'handler',
      runtime: props.runtime,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.consumerTimeout,
      role,
      logGroup,
      description: `Runs jobs from the ${lane.name} lane`,
      environment: {
        ...props.environment,
        [CONSUMER_ENV.ledgerTable]: props.ledgerTableName,
        [CONSUMER_ENV.lane]: lane.name,
        [CONSUMER_ENV.queueUrl]: this.queue.queueUrl,
        [CONSUMER_ENV.dlqUrl]: this.deadLetterQueue.queueUrl,
        [CONSUMER_ENV.maxAttempts]: String(lane.maxAttempts),
        [CONSUMER_ENV.maxReceiveCount]: String(lane.maxReceiveCount),
        [CONSUMER_ENV.visibilityTimeoutSeconds]: String(this.visibilityTimeout.toSeconds()),
        [CONSUMER_ENV.backoffBaseSeconds]: String(props.backoffBase.toSeconds()),
        [CONSUMER_ENV.backoffCapSeconds]: String(props.backoffCap.toSeconds()),
        [CONSUMER_ENV.ledgerTtlSeconds]: String(props.ledgerTtl.toSeconds()),
        [CONSUMER_ENV.batchParallelism]: String(props.batchParallelism),
        [CONSUMER_ENV.fifo]: String(lane.fifo),
        ...(props.searchIndex ? { [CONSUMER_ENV.searchIndex]: '1' } : {}),
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace,
        POWERTOOLS_LOG_LEVEL: props.consumerLogLevel,
        // Powertools Metrics then writes no EMF documents (no custom metrics, fewer log bytes).
        ...(props.jobMetrics ? {} : { POWERTOOLS_METRICS_DISABLED: 'true' }),
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        minify: true,
        sourceMap: true,
        target: esbuildTarget(props.runtime),
        format: OutputFormat.CJS,
        // The Lambda Node.js runtime ships AWS SDK v3; leaving it out keeps the bundle small.
        externalModules: props.bundleAwsSdk ? [] : ['@aws-sdk/*'],
        forceDockerBundling: false,
      },
    });

    this.consumer.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: lane.batchSize,
        maxBatchingWindow: lane.maxBatchingWindow.toSeconds() > 0 ? lane.maxBatchingWindow : undefined,
        reportBatchItemFailures: true,
        // maxConcurrency (not reserved concurrency) caps the lane without throttling polled messages,
        // which would burn receive counts and dead-letter good jobs. A provisioned lane has none
        // (Lambda refuses both): its pollers bound it instead (both bounds written, defaults
        // applied, so removing one later resets it).
        maxConcurrency: lane.maxConcurrency,
        provisionedPollerConfig: lane.provisionedPollers && {
          minimumPollers: lane.provisionedPollers.minimum,
          maximumPollers: lane.provisionedPollers.maximum,
        },
      }),
    );
    // The event source already grants receive, delete, queue attributes and
    // ChangeMessageVisibility (backoff and heartbeats); the consumer only adds direct
    // dead-lettering. Not grantSendMessages: the consumer never reads the DLQ's attributes or URL.
    this.deadLetterQueue.grant(this.consumer, 'sqs:SendMessage');
    // Its own lane too: a completion record (a finished run whose SUCCEEDED write failed) and a
    // job deferred by a rate or concurrency limit so often that it is sent again as a fresh message.
    this.queue.grant(this.consumer, 'sqs:SendMessage');
    // With a customer-managed key SQS encrypts the dead-lettered message for the consumer.
    props.encryptionKey?.grantEncryptDecrypt(this.consumer);
    this.acknowledgeDesignChoices();
  }

  /**
   * cdk-nag findings that are this library's design, each on the one resource it concerns. Choices
   * the user makes (the runtime, memory, log retention) are never acknowledged here.
   */
  private acknowledgeDesignChoices(): void {
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason: 'The lane DLQ is the end of the line: jobs leave it only by an operator redrive.',
    });
    Validations.of(this.consumer).acknowledge(
      {
        id: 'Serverless-LambdaDLQ',
        reason:
          'SQS-triggered: failed messages go to the lane DLQ through its redrive policy, not a Lambda DLQ.',
      },
      {
        id: 'Serverless-LambdaAsyncFailureDestination',
        reason: 'Never invoked asynchronously; failures are handled by the lane queue and its DLQ.',
      },
      {
        id: 'Serverless-LambdaTracing',
        reason: 'Per-job structured logs and metrics cover tracing needs; X-Ray would add cost per job.',
      },
      {
        id: 'Serverless-LambdaEventSourceMappingDestination',
        reason:
          'SQS event sources dead-letter through the queue redrive policy (ESM destinations do not apply).',
      },
    );
  }
}

/** SQS-managed encryption, or the customer-managed key when one is given. */
export function queueEncryption(
  key: kms.IKey | undefined,
): Pick<sqs.QueueProps, 'encryption' | 'encryptionMasterKey'> {
  return key
    ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: key }
    : { encryption: sqs.QueueEncryption.SQS_MANAGED };
}

/** The consumer runtime when JobQueueProps.consumerRuntime is not given: the newest Node.js aws-cdk-lib knows. */
export const DEFAULT_CONSUMER_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** esbuild's target for a Node.js Lambda runtime (`nodejs24.x` → `node24`). */
export function esbuildTarget(runtime: lambda.Runtime): string {
  const match = /^nodejs(\d+)/.exec(runtime.name);
  if (!match) {
    throw new JobQueueConfigError(
      'consumerRuntime',
      'a Node.js runtime such as lambda.Runtime.NODEJS_24_X',
      runtime.name,
    );
  }
  return `node${match[1]}`;
}
