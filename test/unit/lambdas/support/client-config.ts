/** The JobQueue config the producer tests share: lanes high, default and a FIFO `ordered`. */
import type { JobQueueConfig, LaneConfig } from '../../../../lambdas/shared/contract';

export function testLane(name: string, fifo = false): LaneConfig {
  return {
    queueUrl: `https://sqs.local/${name}`,
    queueArn: `arn:aws:sqs:us-east-1:1:${name}`,
    dlqUrl: `https://sqs.local/${name}-dlq`,
    dlqArn: `arn:aws:sqs:us-east-1:1:${name}-dlq`,
    fifo,
    maxAttempts: 5,
    functionName: `fn-${name}`,
  };
}

export function testClientConfig(overrides: Partial<JobQueueConfig> = {}): JobQueueConfig {
  return {
    version: 1,
    tableName: 'ledger',
    defaultLane: 'default',
    lanes: { high: testLane('high'), default: testLane('default'), ordered: testLane('ordered.fifo', true) },
    scheduleGroup: 'jobs',
    schedulerRoleArn: 'arn:aws:iam::1:role/scheduler',
    scheduleDlqArn: 'arn:aws:sqs:us-east-1:1:schedule-dlq',
    alarmTopicArn: 'arn:aws:sns:us-east-1:1:alarms',
    ...overrides,
  };
}
