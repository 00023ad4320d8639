/** Every synth-time validation, with the message naming the prop, the allowed range and the value. */
import { Duration } from 'aws-cdk-lib';
import { ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { describe, expect, it } from 'vitest';
import { JobQueue, JobQueueConfigError } from '../../../lib';
import { oneLaneQueue, REGISTRY, unbundledStack } from './helpers';

describe('JobQueue props', () => {
  const cases: [string, Parameters<typeof oneLaneQueue>[0], RegExp][] = [
    ['empty lanes', { lanes: [] }, /lanes must be a non-empty list.*got \[\]/],
    [
      'bad lane name',
      { lanes: [{ name: 'High Lane' }] },
      /lanes\[0\]\.name must be lowercase.*got "High Lane"/,
    ],
    [
      'duplicate lane',
      { lanes: [{ name: 'a' }, { name: 'a' }] },
      /lanes\[1\]\.name must be unique among lanes; got "a"/,
    ],
    [
      'zero weight',
      { lanes: [{ name: 'a', weight: 0 }] },
      /lanes\[0\]\.weight must be an integer from 1 to 100; got 0/,
    ],
    [
      'zero attempts',
      { lanes: [{ name: 'a', maxAttempts: 0 }] },
      /lanes\[0\]\.maxAttempts must be an integer from 1 to 995; got 0/,
    ],
    [
      'retention above the DLQ retention',
      { lanes: [{ name: 'a', retentionPeriod: Duration.days(15) }] },
      /lanes\[0\]\.retentionPeriod must be between 60 and 1209600 seconds; got "15 days \(1296000 s\)"/,
    ],
    [
      'age objective above retention',
      { lanes: [{ name: 'a', retentionPeriod: Duration.hours(1), messageAgeObjective: Duration.hours(2) }] },
      /lanes\[0\]\.messageAgeObjective must be between 60 and 3600 seconds/,
    ],
    [
      'FIFO lane with a batching window',
      { lanes: [{ name: 'a', fifo: true, maxBatchingWindow: Duration.seconds(5) }] },
      /lanes\[0\]\.maxBatchingWindow must be 0 seconds on a FIFO lane.*got "5 seconds"/,
    ],
    [
      'FIFO batch above 10',
      { lanes: [{ name: 'a', fifo: true, batchSize: 11 }] },
      /lanes\[0\]\.batchSize must be an integer from 1 to 10; got 11/,
    ],
    [
      'batch above 10 without window',
      { batchSize: 50 },
      /lanes\[0\]\.maxBatchingWindow must be at least 1 second when batchSize is above 10/,
    ],
    [
      'concurrency below 2 per lane',
      { lanes: [{ name: 'a' }, { name: 'b' }], totalConcurrency: 3 },
      /totalConcurrency must be an integer from 4 to 2000; got 3/,
    ],
    [
      'consumer timeout above 15 min',
      { consumerTimeout: Duration.minutes(16) },
      /consumerTimeout must be between 1 and 900 seconds/,
    ],
    [
      'memory below 128',
      { consumerMemorySize: 64 },
      /consumerMemorySize must be an integer from 128 to 10240; got 64/,
    ],
    [
      'batch parallelism 0',
      { batchParallelism: 0 },
      /batchParallelism must be an integer from 1 to 100; got 0/,
    ],
    [
      'backoff cap below base',
      { backoff: { base: Duration.minutes(2), cap: Duration.minutes(1) } },
      /backoff\.cap must be between 120 and 43200 seconds/,
    ],
    [
      'backoff cap above 12 h',
      { backoff: { cap: Duration.hours(13) } },
      /backoff\.cap must be between 5 and 43200 seconds/,
    ],
    [
      'ledger TTL shorter than the retry horizon',
      {
        lanes: [{ name: 'a', maxAttempts: 20 }],
        backoff: { cap: Duration.hours(12) },
        ledgerTtl: Duration.days(1),
      },
      /ledgerTtl must be between \d+ and 31536000 seconds; got "1 day \(86400 s\)"/,
    ],
    ['unknown default lane', { defaultLane: 'nope' }, /defaultLane must be one of only; got "nope"/],
    [
      'missing registry file',
      { registryEntry: '/no/such/jobs.ts' },
      /registryEntry must be the path of an existing file.*got "\/no\/such\/jobs.ts"/,
    ],
    [
      'bad registry export',
      { registryExport: 'not valid' },
      /registryExport must be a JavaScript identifier; got "not valid"/,
    ],
    [
      'DLQ growth threshold 0',
      { alarms: { dlqGrowthPerHour: 0 } },
      /alarms\.dlqGrowthPerHour must be an integer from 1/,
    ],
    [
      'p99 baseline above the timeout',
      { alarms: { durationP99Baseline: Duration.minutes(5) } },
      /alarms\.durationP99Baseline must be between 0\.001 and 60 seconds/,
    ],
    [
      'unknown monitoring profile',
      { monitoringProfile: 'minimal' as never },
      /monitoringProfile must be one of 'full', 'lean'; got "minimal"/,
    ],
    [
      'lower-case log level',
      { consumerLogLevel: 'debug' as never },
      /consumerLogLevel must be one of 'DEBUG', 'INFO', 'WARN', 'ERROR'; got "debug"/,
    ],
    [
      'log level Powertools knows but the construct does not offer',
      { consumerLogLevel: 'TRACE' as never },
      /consumerLogLevel must be one of 'DEBUG', 'INFO', 'WARN', 'ERROR'; got "TRACE"/,
    ],
  ];

  it.each(cases)('rejects %s', (_name, props, message) => {
    expect(() => oneLaneQueue(props)).toThrow(message);
  });

  it('throws a typed error that names the prop', () => {
    try {
      oneLaneQueue({ lanes: [{ name: 'a', weight: 500 }] });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(JobQueueConfigError);
      expect((error as JobQueueConfigError).prop).toBe('lanes[0].weight');
    }
  });

  it('accepts the defaults: three lanes named high, default, low', () => {
    const stack = unbundledStack();
    const queue = new JobQueue(stack, 'Jobs', { registryEntry: REGISTRY });
    expect([...queue.lanes.keys()]).toEqual(['high', 'default', 'low']);
    expect(queue.defaultLane).toBe('default');
  });
});

describe('JobSchedule props', () => {
  const cron = ScheduleExpression.expression('cron(0 3 * * ? *)');

  it('rejects an unknown lane, naming the lanes that exist', () => {
    const { queue } = oneLaneQueue();
    expect(() => queue.addSchedule('S', { schedule: cron, jobType: 'x', lane: 'fast' })).toThrow(
      /lane must be one of only; got "fast"/,
    );
  });

  it('rejects retry attempts above 185 and event ages outside 60 s – 24 h', () => {
    const { queue } = oneLaneQueue();
    expect(() => queue.addSchedule('A', { schedule: cron, jobType: 'x', retryAttempts: 186 })).toThrow(
      /retryAttempts must be an integer from 0 to 185; got 186/,
    );
    expect(() =>
      queue.addSchedule('B', { schedule: cron, jobType: 'x', maxEventAge: Duration.seconds(30) }),
    ).toThrow(/maxEventAge must be between 60 and 86400 seconds/);
  });

  it('rejects a bad job type and a payload too large for a Scheduler input', () => {
    const { queue } = oneLaneQueue();
    expect(() => queue.addSchedule('A', { schedule: cron, jobType: 'has space' })).toThrow(
      /JobSchedule .A.\.jobType must be a string of 1-128 characters \[A-Za-z0-9._:-\]; got "has space"/,
    );
    expect(() =>
      queue.addSchedule('B', { schedule: cron, jobType: 'x', payload: { blob: 'x'.repeat(9000) } }),
    ).toThrow(
      /payload must be at most 8192 characters once wrapped in the job envelope; got "\d+ characters"/,
    );
  });
});
