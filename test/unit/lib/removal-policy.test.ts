/**
 * Data kept when the stack changes: queues (they hold queued work), DLQs and the ledger are
 * retained by default, also when CloudFormation replaces them (a switch to FIFO).
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { oneLaneQueue } from './helpers';

function policies(template: Template, type: string): { deletion: unknown; replace: unknown }[] {
  return Object.values(template.findResources(type)).map((r) => ({
    deletion: r.DeletionPolicy,
    replace: r.UpdateReplacePolicy,
  }));
}

describe('removal policy', () => {
  it('retains every lane queue, DLQ, the schedule DLQ and the ledger by default', () => {
    // Act
    const { stack } = oneLaneQueue();

    // Assess
    const template = Template.fromStack(stack);
    // lane queue, lane DLQ, schedule DLQ
    expect(policies(template, 'AWS::SQS::Queue')).toEqual(
      Array(3).fill({ deletion: 'Retain', replace: 'Retain' }),
    );
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  it('applies removalPolicy to the queues and the ledger', () => {
    // Act
    const { stack } = oneLaneQueue({ removalPolicy: RemovalPolicy.DESTROY });

    // Assess
    const template = Template.fromStack(stack);
    expect(policies(template, 'AWS::SQS::Queue')).toEqual(
      Array(3).fill({ deletion: 'Delete', replace: 'Delete' }),
    );
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
  });

  it('lets ledgerRemovalPolicy win for the ledger', () => {
    // Act
    const { stack } = oneLaneQueue({
      removalPolicy: RemovalPolicy.DESTROY,
      ledgerRemovalPolicy: RemovalPolicy.RETAIN,
    });

    // Assess
    const template = Template.fromStack(stack);
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });
    template.hasResource('AWS::SQS::Queue', { DeletionPolicy: 'Delete' });
  });

  it('keeps the old queue when a lane becomes FIFO (a replacement)', () => {
    // Act
    const { stack } = oneLaneQueue({ lanes: [{ name: 'only', fifo: true }] });

    // Assess
    Template.fromStack(stack).hasResource('AWS::SQS::Queue', {
      Properties: { FifoQueue: true },
      UpdateReplacePolicy: 'Retain',
      DeletionPolicy: 'Retain',
    });
  });
});
