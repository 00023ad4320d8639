/**
 * The results bucket (on by default) and lifecycle events (opt-in) of a JobQueue: the resources,
 * the consumers' environment and grants, and the config output.
 */
import { Duration, RemovalPolicy, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { CONSUMER_ENV } from '../../../lambdas/shared/contract';
import { JobQueue, type JobQueueProps } from '../../../lib';
import { oneLaneQueue, REGISTRY, unbundledStack } from './helpers';

/** A one-lane queue whose props may use constructs of its own stack (a key, a bucket, a bus). */
function queueWith(props: (stack: Stack) => Partial<JobQueueProps>): { stack: Stack; queue: JobQueue } {
  const stack = unbundledStack();
  const queue = new JobQueue(stack, 'Jobs', {
    registryEntry: REGISTRY,
    lanes: [{ name: 'only' }],
    ...props(stack),
  });
  return { stack, queue };
}

/** The consumer's environment variables as the template has them. */
function consumerVariables(template: Template): Record<string, unknown> {
  const functions = template.findResources('AWS::Lambda::Function', {
    Properties: { Environment: { Variables: Match.objectLike({ [CONSUMER_ENV.lane]: 'only' }) } },
  });
  const [consumer] = Object.values(functions);
  return consumer.Properties.Environment.Variables;
}

/** Every policy statement of the template's IAM policies. */
function statements(template: Template): { Action: string | string[]; Resource: unknown }[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (policy) => policy.Properties.PolicyDocument.Statement,
  );
}

describe('results bucket', () => {
  it('is created by default: private, TLS only, S3-managed encryption, results expire with the ledger', () => {
    // Act
    const { stack, queue } = oneLaneQueue();
    const template = Template.fromStack(stack);

    // Assess
    template.resourceCountIs('AWS::S3::Bucket', 1);
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: {
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        LifecycleConfiguration: {
          Rules: [Match.objectLike({ Prefix: 'results/', ExpirationInDays: 30, Status: 'Enabled' })],
        },
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
    expect(consumerVariables(template)[CONSUMER_ENV.resultsBucket]).toBeDefined();
    expect(consumerVariables(template)[CONSUMER_ENV.eventBus]).toBeUndefined();
    expect(queue.config.resultsBucket).toBe(queue.resultsBucket?.bucketName);
    expect(queue.config.eventBusName).toBeUndefined();
  });

  it('gives the consumer s3:PutObject on results/* only', () => {
    // Act
    const { stack, queue } = oneLaneQueue();
    const template = Template.fromStack(stack);

    // Assess
    const s3Statements = statements(template).filter((s) => JSON.stringify(s.Action).includes('s3:'));
    expect(s3Statements).toEqual([
      expect.objectContaining({
        Action: 's3:PutObject',
        Resource: {
          'Fn::Join': [
            '',
            [
              { 'Fn::GetAtt': [stack.getLogicalId(queue.resultsBucket?.node.defaultChild as never), 'Arn'] },
              '/results/*',
            ],
          ],
        },
      }),
    ]);
  });

  it('rounds the ledger TTL up to whole days for the expiration', () => {
    // Act
    const { stack } = oneLaneQueue({ ledgerTtl: Duration.hours(36) });

    // Assess
    Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 2 })] },
    });
  });

  it('uses the queue’s key with an S3 bucket key, and follows the removal policy', () => {
    // Act
    const { stack } = oneLaneQueue({ removalPolicy: RemovalPolicy.DESTROY });
    const withKey = queueWith((scope) => ({ encryptionKey: new kms.Key(scope, 'Key') }));

    // Assess
    Template.fromStack(stack).hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
    Template.fromStack(withKey.stack).hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() },
          },
        ],
      },
    });
  });

  it('is not created with resultsBucket: false (large results become a note)', () => {
    // Act
    const { stack, queue } = oneLaneQueue({ resultsBucket: false });
    const template = Template.fromStack(stack);

    // Assess
    template.resourceCountIs('AWS::S3::Bucket', 0);
    expect(consumerVariables(template)[CONSUMER_ENV.resultsBucket]).toBeUndefined();
    expect(queue.resultsBucket).toBeUndefined();
    expect(queue.config.resultsBucket).toBeUndefined();
  });

  it('uses a bucket passed in, granting the consumer results/* in it', () => {
    // Act
    const { stack } = queueWith((scope) => ({
      resultsBucket: s3.Bucket.fromBucketName(scope, 'Theirs', 'their-bucket'),
    }));
    const template = Template.fromStack(stack);

    // Assess
    template.resourceCountIs('AWS::S3::Bucket', 0);
    expect(consumerVariables(template)[CONSUMER_ENV.resultsBucket]).toBe('their-bucket');
    expect(JSON.stringify(statements(template))).toContain(':s3:::their-bucket/results/*');
  });
});

describe('lifecycle events', () => {
  it('are off by default: no bus variable, no events grant', () => {
    // Act
    const { stack } = oneLaneQueue();

    // Assess
    expect(JSON.stringify(statements(Template.fromStack(stack)))).not.toContain('events:');
  });

  it('true: the default bus, with events:PutEvents on it only', () => {
    // Act
    const { stack, queue } = oneLaneQueue({ lifecycleEvents: true });
    const template = Template.fromStack(stack);

    // Assess
    expect(consumerVariables(template)[CONSUMER_ENV.eventBus]).toBe('default');
    expect(queue.config.eventBusName).toBe('default');
    const put = statements(template).filter((s) => s.Action === 'events:PutEvents');
    expect(put).toHaveLength(1);
    expect(JSON.stringify(put[0].Resource)).toContain(':event-bus/default');
  });

  it('{ eventBus }: that bus', () => {
    // Act
    const { stack, queue } = queueWith((scope) => ({
      lifecycleEvents: { eventBus: events.EventBus.fromEventBusName(scope, 'Bus', 'jobs-bus') },
    }));
    const template = Template.fromStack(stack);

    // Assess
    expect(consumerVariables(template)[CONSUMER_ENV.eventBus]).toBe('jobs-bus');
    expect(queue.config.eventBusName).toBe('jobs-bus');
    const put = statements(template).filter((s) => s.Action === 'events:PutEvents');
    expect(JSON.stringify(put[0].Resource)).toContain(':event-bus/jobs-bus');
  });
});

describe('cdk-nag', () => {
  it('reports nothing unacknowledged on a queue with its bucket, a key and lifecycle events', () => {
    // Act
    const { stack } = queueWith((scope) => ({
      encryptionKey: new kms.Key(scope, 'Key', { enableKeyRotation: true }),
      lifecycleEvents: true,
    }));

    // Assess
    for (const pack of [new AwsSolutionsChecks(), new ServerlessChecks()]) {
      const report = pack.validateScope(stack);
      expect(
        report.violations
          .map((v) => `${v.ruleName}: ${v.violatingResources[0]?.constructPath}`)
          // The key's own IAM5 findings (kms:*Encrypt*) are the encryptionKey feature's, not these.
          .filter((v) => /Results|S3/.test(v)),
      ).toEqual([]);
    }
  });
});
