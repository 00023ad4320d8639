/**
 * grantCancel's statements beyond what grants.test.ts simulates: the key of an encrypted ledger,
 * and an imported queue (no stack name, so no DescribeStacks).
 */
import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, it } from 'vitest';
import { JobQueue } from '../../../lib';
import { oneLaneQueue, REGISTRY, unbundledStack } from './helpers';

/** Every statement of the policies attached to `role`, resolved. */
function statementsOf(stack: Stack, role: iam.Role): { Action: string | string[]; Resource: unknown }[] {
  const ref = JSON.stringify(stack.resolve(role.roleName));
  return Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(ref))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}

function actionsOf(stack: Stack, role: iam.Role): string[] {
  return statementsOf(stack, role)
    .flatMap((statement) => [statement.Action].flat())
    .sort();
}

describe('grantCancel', () => {
  it('grants encrypt and decrypt on the ledger key when the queue has one', () => {
    // Prepare
    const stack = unbundledStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const queue = new JobQueue(stack, 'Jobs', {
      registryEntry: REGISTRY,
      lanes: [{ name: 'only' }],
      encryptionKey: key,
    });
    const role = new iam.Role(stack, 'Canceller', { assumedBy: new iam.AccountRootPrincipal() });

    // Act
    queue.grantCancel(role);

    // Assess
    const actions = actionsOf(stack, role);
    expect(actions).toEqual(expect.arrayContaining(['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*']));
    expect(actions.filter((action) => !action.startsWith('kms:'))).toEqual([
      'cloudformation:DescribeStacks',
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
      'scheduler:DeleteSchedule',
    ]);
  });

  it('grants no key actions without a key', () => {
    // Prepare
    const { stack, queue } = oneLaneQueue();
    const role = new iam.Role(stack, 'Canceller', { assumedBy: new iam.AccountRootPrincipal() });

    // Act
    queue.grantCancel(role);

    // Assess
    expect(actionsOf(stack, role).filter((action) => action.startsWith('kms:'))).toEqual([]);
  });

  it('on an imported queue, deletes the one-time job schedules of its group only, and reads no stack it does not know', () => {
    // Prepare
    const stack = unbundledStack();
    const imported = JobQueue.fromJobQueueAttributes(stack, 'Jobs', {
      ledgerTableArn: 'arn:aws:dynamodb:us-east-1:111111111111:table/Ledger',
      lanes: {
        default: {
          queueArn: 'arn:aws:sqs:us-east-1:111111111111:jobs',
          deadLetterQueueArn: 'arn:aws:sqs:us-east-1:111111111111:jobs-dlq',
        },
      },
      scheduleGroupName: 'jobs-group',
      schedulerRoleArn: 'arn:aws:iam::111111111111:role/scheduler',
      scheduleDeadLetterQueueArn: 'arn:aws:sqs:us-east-1:111111111111:schedule-dlq',
    });
    const role = new iam.Role(stack, 'Canceller', { assumedBy: new iam.AccountRootPrincipal() });

    // Act
    imported.grantCancel(role);

    // Assess
    const statements = statementsOf(stack, role);
    expect(actionsOf(stack, role)).toEqual([
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
      'scheduler:DeleteSchedule',
    ]);
    const deleteSchedule = statements.find((statement) => statement.Action === 'scheduler:DeleteSchedule');
    expect(JSON.stringify(deleteSchedule?.Resource)).toContain(':schedule/jobs-group/job-*');
  });
});
