import { describe, expect, it } from 'vitest';
import { compactPlaceholders } from '../../../lambdas/ledger/update';

describe('compactPlaceholders', () => {
  it('shortens every name placeholder in both expressions and keeps the names and values', () => {
    // Arrange
    const request = {
      TableName: 't',
      UpdateExpression:
        'SET #status = :status, #history = list_append(#history, :history) REMOVE #leaseOwner',
      ConditionExpression: '#leaseOwner = :owner AND #status = :running',
      ExpressionAttributeNames: { '#status': 'status', '#history': 'history', '#leaseOwner': 'leaseOwner' },
      ExpressionAttributeValues: {
        ':status': { S: 'SUCCEEDED' },
        ':history': { L: [] },
        ':owner': { S: 'o' },
        ':running': { S: 'RUNNING' },
      },
    };

    // Act
    const short = compactPlaceholders(request);

    // Assess
    expect(short.ExpressionAttributeNames).toEqual({ '#0': 'status', '#1': 'history', '#2': 'leaseOwner' });
    expect(short.UpdateExpression).toBe('SET #0 = :status, #1 = list_append(#1, :history) REMOVE #2');
    expect(short.ConditionExpression).toBe('#2 = :owner AND #0 = :running');
    expect(short.ExpressionAttributeValues).toBe(request.ExpressionAttributeValues);
    expect(short.TableName).toBe('t');
  });

  it('leaves list paths, placeholders it does not know and requests without names alone', () => {
    // Arrange
    const request = {
      UpdateExpression: 'REMOVE #history[0], #history[1]',
      ConditionExpression: 'size(#history) = :length AND #other = :x',
      ExpressionAttributeNames: { '#history': 'history' },
    };

    // Act
    const short = compactPlaceholders(request);

    // Assess
    expect(short.UpdateExpression).toBe('REMOVE #0[0], #0[1]');
    expect(short.ConditionExpression).toBe('size(#0) = :length AND #other = :x');
    const bare = { UpdateExpression: 'SET a = :a' };
    expect(compactPlaceholders(bare)).toBe(bare);
  });
});
