/** `jobSearch`: the ledger's search index, the consumer flag, the config field and imports. */
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { CONSUMER_ENV, type JobQueueConfig, SEARCH_INDEX } from '../../../lambdas/shared/contract';
import { JOB_SEARCH_INDEX, JobQueue } from '../../../lib';
import { oneLaneQueue, REGISTRY, unbundledStack } from './helpers';

describe('jobSearch', () => {
  it('adds the byStatus index to the ledger: status key and time, the listing attributes projected', () => {
    // Act
    const { stack } = oneLaneQueue({ jobSearch: true });

    // Assess
    Template.fromStack(stack).hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byStatus',
          KeySchema: [
            { AttributeName: 'statusKey', KeyType: 'HASH' },
            { AttributeName: 'statusAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...SEARCH_INDEX.projected] },
        },
      ],
    });
  });

  it('tells the consumers and clients: JOBS_SEARCH_INDEX=1 and searchIndex in the config', () => {
    // Act
    const { stack, queue } = oneLaneQueue({ jobSearch: true });

    // Assess
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [CONSUMER_ENV.searchIndex]: '1' }) },
    });
    expect(queue.config.searchIndex).toBe(SEARCH_INDEX.name);
    expect(queue.searchIndexName).toBe(SEARCH_INDEX.name);
  });

  it('is off by default: no index, no consumer flag, no config field', () => {
    // Act
    const { stack, queue } = oneLaneQueue();

    // Assess
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::DynamoDB::Table', { GlobalSecondaryIndexes: Match.absent() });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [CONSUMER_ENV.ledgerTable]: Match.anyValue() }) },
    });
    expect(JSON.stringify(template.toJSON())).not.toContain(CONSUMER_ENV.searchIndex);
    expect(queue.config).not.toHaveProperty('searchIndex');
  });

  it('with an own ledger table, uses it as is: JOB_SEARCH_INDEX is what its owner adds', () => {
    // Prepare
    const stack = unbundledStack();
    const table = new dynamodb.Table(stack, 'Own', {
      partitionKey: { name: 'jobId', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    });
    table.addGlobalSecondaryIndex(JOB_SEARCH_INDEX);

    // Act
    const queue = new JobQueue(stack, 'Jobs', {
      registryEntry: REGISTRY,
      lanes: [{ name: 'only' }],
      ledgerTable: table,
      jobSearch: true,
    });

    // Assess
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: [Match.objectLike({ IndexName: SEARCH_INDEX.name })],
    });
    expect(queue.config.searchIndex).toBe(SEARCH_INDEX.name);
  });

  it('carries over to an imported queue: grantStatusRead allows Query on the index', () => {
    // Prepare
    const other = new Stack(undefined, 'Other', { env: { account: '111111111111', region: 'us-east-1' } });
    const arn = (name: string) => `arn:aws:sqs:us-east-1:111111111111:${name}`;
    const url = (name: string) => `https://sqs.us-east-1.amazonaws.com/111111111111/${name}`;
    const config: JobQueueConfig = {
      version: 1,
      tableName: 'ledger',
      defaultLane: 'only',
      lanes: {
        only: {
          queueUrl: url('only'),
          queueArn: arn('only'),
          dlqUrl: url('only-dlq'),
          dlqArn: arn('only-dlq'),
          fifo: false,
          maxAttempts: 3,
          functionName: 'consumer',
        },
      },
      scheduleGroup: 'jobs',
      schedulerRoleArn: 'arn:aws:iam::111111111111:role/scheduler',
      scheduleDlqArn: arn('schedule-dlq'),
      alarmTopicArn: 'arn:aws:sns:us-east-1:111111111111:alarms',
      searchIndex: SEARCH_INDEX.name,
    };

    // Act
    const imported = JobQueue.fromJobQueueConfig(other, 'Jobs', config);
    const reader = new iam.Role(other, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    imported.grantStatusRead(reader);

    // Assess
    expect(imported.config.searchIndex).toBe(SEARCH_INDEX.name);
    Template.fromStack(other).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'dynamodb:Query',
            Resource: {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  `:dynamodb:us-east-1:111111111111:table/ledger/index/${SEARCH_INDEX.name}`,
                ],
              ],
            },
          }),
        ]),
      },
    });
  });
});
