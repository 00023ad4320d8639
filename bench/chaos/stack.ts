/**
 * The chaos stack: a JobQueue like the example's (three standard lanes and a FIFO one) running the
 * chaos registry, plus the effects table the audit counts side effects in.
 *
 * Its consumers reach AWS through the fault proxy: `proxyUrl` becomes their AWS_ENDPOINT_URL
 * (LocalStack lets a function's own environment override the endpoint it injects). The effects
 * table is written on `directEndpoint`, past the proxy.
 */
import * as path from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { JobQueue } from '../../lib';
import { CHAOS_ENV, chaosRegistry, EFFECT_ATTR } from './jobs';

export interface ChaosStackProps extends StackProps {
  /** The fault proxy the consumers' AWS calls go through, e.g. http://127.0.0.1:45660. */
  readonly proxyUrl: string;
  /** LocalStack's own endpoint, for the effects table. */
  readonly directEndpoint: string;
}

/** Name of the stack output holding the effects table name. */
export const EFFECTS_TABLE_OUTPUT = 'EffectsTable';

export class ChaosStack extends Stack {
  public readonly jobQueue: JobQueue;
  public readonly effects: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: ChaosStackProps) {
    super(scope, id, props);
    this.effects = new dynamodb.TableV2(this, 'Effects', {
      partitionKey: { name: EFFECT_ATTR.pk, type: dynamodb.AttributeType.STRING },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.jobQueue = new JobQueue(this, 'Jobs', {
      registryEntry: path.join(__dirname, 'jobs.ts'),
      registryExport: 'chaosRegistry',
      registry: chaosRegistry,
      lanes: [
        { name: 'high', weight: 3, maxAttempts: 6 },
        { name: 'default', weight: 2, maxAttempts: 6 },
        { name: 'low', weight: 1, maxAttempts: 6 },
        { name: 'ordered', weight: 1, maxAttempts: 6, fifo: true },
      ],
      totalConcurrency: 14,
      // Short timeouts keep the visibility timeout (6 × 10 s) that a crashed batch waits out small.
      consumerTimeout: Duration.seconds(10),
      backoff: { base: Duration.seconds(1), cap: Duration.seconds(8) },
      ledgerTtl: Duration.days(1),
      removalPolicy: RemovalPolicy.DESTROY,
      dashboard: false,
      consumerEnvironment: {
        AWS_ENDPOINT_URL: props.proxyUrl,
        [CHAOS_ENV.effectsEndpoint]: props.directEndpoint,
        [CHAOS_ENV.effectsTable]: this.effects.tableName,
      },
    });
    for (const lane of this.jobQueue.lanes.values()) this.effects.grantReadWriteData(lane.consumer);
    new CfnOutput(this, EFFECTS_TABLE_OUTPUT, { value: this.effects.tableName });
  }
}
