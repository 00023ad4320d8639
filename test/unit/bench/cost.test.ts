/** The cost model against the arithmetic in ANCHORS.md (1M 1-KB jobs, batch 10, 100 ms at 256 MB arm64). */
import { describe, expect, it } from 'vitest';
import {
  type CfnTemplate,
  defaultLogBytesPerJob,
  firingsPerMonth,
  fixedMonthlyUSD,
  ledgerUnitsPerJob,
  monitoringMonthlyUSD,
  monthlyBreakdown,
  perMillionJobs,
  readStackShape,
} from '../../../bench/cost-model';

const anchor = { batchSize: 10, memoryMb: 256, architecture: 'arm64' as const, batchMs: 100, jobBytes: 1024 };

describe('cost per million jobs', () => {
  it('matches ANCHORS.md for SQS with batched sends: 300k requests = $0.12', () => {
    // Act
    const cost = perMillionJobs({ ...anchor, mode: 'strict' });

    // Assess
    expect(cost.sqsRequestsPerJob).toBeCloseTo(0.3, 10);
    expect(cost.sqsUSD).toBeCloseTo(0.12, 10);
  });

  it('matches ANCHORS.md for unbatched sends: $0.48', () => {
    // Act
    const cost = perMillionJobs({ ...anchor, mode: 'strict', batchedSends: false });

    // Assess
    expect(cost.sqsUSD).toBeCloseTo(0.48, 10);
  });

  it('matches ANCHORS.md for Lambda: 100k invocations $0.02 + 2,500 GB-s ≈ $0.053', () => {
    // Act
    const cost = perMillionJobs({ ...anchor, mode: 'strict' });

    // Assess
    expect(cost.lambdaInvocations).toBe(100_000);
    expect(cost.lambdaGbSeconds).toBeCloseTo(2500, 6);
    expect(cost.lambdaUSD).toBeCloseTo(0.02 + 2500 * 0.0000133334, 8);
    expect(cost.lambdaUSD).toBeCloseTo(0.053, 3);
  });

  it('matches ANCHORS.md for the ledger: strict 2 writes $1.25, optimistic read + write $0.75, none $0', () => {
    // Act
    const strict = perMillionJobs({ ...anchor, mode: 'strict' });
    const optimistic = perMillionJobs({ ...anchor, mode: 'optimistic' });
    const none = perMillionJobs({ ...anchor, mode: 'none' });

    // Assess
    expect(strict.dynamodbUSD).toBeCloseTo(1.25, 10);
    expect(optimistic.dynamodbUSD).toBeCloseTo(0.75, 10);
    expect(none.dynamodbUSD).toBe(0);
  });

  it('adds up to ≈ $1.42 strict, ≈ $0.92 optimistic, ≈ $0.17 without a ledger', () => {
    // Act
    const totals = (['strict', 'optimistic', 'none'] as const).map(
      (mode) => perMillionJobs({ ...anchor, mode }).totalUSD,
    );

    // Assess
    expect(totals[0]).toBeCloseTo(1.42, 2);
    expect(totals[1]).toBeCloseTo(0.92, 2);
    expect(totals[2]).toBeCloseTo(0.17, 2);
    expect(perMillionJobs({ ...anchor, mode: 'strict' }).dynamodbUSD / totals[0]).toBeCloseTo(0.88, 2);
  });

  it('bills ledger items over 1 KB per started KB', () => {
    // Act
    const units = ledgerUnitsPerJob('strict', 1500);

    // Assess
    expect(units).toEqual({ writes: 4, reads: 0 });
  });

  it('bills FIFO lanes at the FIFO request price', () => {
    // Act
    const cost = perMillionJobs({ ...anchor, mode: 'none', fifo: true });

    // Assess
    expect(cost.sqsUSD).toBeCloseTo(0.3 * 0.5, 10);
  });
});

describe('reading a synthesized template', () => {
  const template: CfnTemplate = {
    Resources: {
      Queue: { Type: 'AWS::SQS::Queue', Properties: {} },
      FifoQueue: { Type: 'AWS::SQS::Queue', Properties: { FifoQueue: true } },
      Fn: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          MemorySize: 512,
          Architectures: ['arm64'],
          Environment: {
            Variables: {
              JOBS_LANE: 'high',
              JOBS_QUEUE_URL: { Ref: 'Queue' },
              JOBS_LEDGER_TTL_SECONDS: '86400',
            },
          },
        },
      },
      FifoFn: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          Environment: { Variables: { JOBS_LANE: 'ordered', JOBS_QUEUE_URL: { Ref: 'FifoQueue' } } },
        },
      },
      Other: { Type: 'AWS::Lambda::Function', Properties: { MemorySize: 128 } },
      Esm: {
        Type: 'AWS::Lambda::EventSourceMapping',
        Properties: { FunctionName: { Ref: 'Fn' }, BatchSize: 25 },
      },
      A1: { Type: 'AWS::CloudWatch::Alarm', Properties: { MetricName: 'x' } },
      A2: {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: { Metrics: [{ MetricStat: {} }, { MetricStat: {} }, { Expression: 'a+b' }] },
      },
      D: { Type: 'AWS::CloudWatch::Dashboard', Properties: {} },
      S: {
        Type: 'AWS::Scheduler::Schedule',
        Properties: { ScheduleExpression: 'rate(1 hour)', State: 'ENABLED' },
      },
      T: {
        Type: 'AWS::DynamoDB::Table',
        Properties: {
          BillingMode: 'PAY_PER_REQUEST',
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        },
      },
    },
  };

  it('finds lanes, batch sizes, memory, architecture, alarm metrics, dashboards, schedules and the ledger', () => {
    // Act
    const shape = readStackShape(template);

    // Assess
    expect(shape.lanes).toEqual([
      { name: 'high', fifo: false, batchSize: 25, memoryMb: 512, architecture: 'arm64' },
      { name: 'ordered', fifo: true, batchSize: 10, memoryMb: 128, architecture: 'x86_64' },
    ]);
    expect(shape.alarms).toBe(2);
    expect(shape.alarmMetrics).toBe(3);
    expect(shape.dashboards).toBe(1);
    expect(shape.schedules).toEqual([{ expression: 'rate(1 hour)', firingsPerMonth: 730 }]);
    expect(shape.ledger).toEqual({ onDemand: true, pitr: true, ttlSeconds: 86400 });
  });

  it('prices the fixed items: $0.10 per alarm metric, $3 per dashboard', () => {
    // Act
    const lines = monthlyBreakdown(readStackShape(template), { jobsPerMonth: 0, mode: 'strict' });
    const line = (item: string) => lines.find((l) => l.item === item)?.usd;

    // Assess
    expect(line('CloudWatch alarms')).toBeCloseTo(0.3, 10);
    expect(line('CloudWatch dashboards')).toBe(3);
    expect(line('DynamoDB ledger (strict)')).toBe(0);
  });

  it('reads the log level and whether the consumers emit job metrics', () => {
    // Act
    const shape = readStackShape(template);
    const disabled = structuredClone(template);
    for (const id of ['Fn', 'FifoFn']) {
      const vars = (
        disabled.Resources[id].Properties as { Environment: { Variables: Record<string, unknown> } }
      ).Environment.Variables;
      vars.POWERTOOLS_METRICS_DISABLED = 'true';
      vars.POWERTOOLS_LOG_LEVEL = 'WARN';
    }

    // Assess
    expect(shape).toMatchObject({ jobMetrics: true, consumerLogLevel: 'INFO' });
    expect(readStackShape(disabled)).toMatchObject({ jobMetrics: false, consumerLogLevel: 'WARN' });
  });

  it('bills custom metrics only when the consumers emit them, and sums monitoring and fixed lines', () => {
    // Prepare
    const shape = readStackShape(template);
    const options = { jobsPerMonth: 0, mode: 'strict' as const, jobTypes: 5 };

    // Act
    const on = monthlyBreakdown(shape, options);
    const off = monthlyBreakdown({ ...shape, jobMetrics: false }, options);

    // Assess: 3 alarm metrics × $0.10 + $3 dashboard + 5 types × 6 metrics × $0.30
    expect(monitoringMonthlyUSD(on)).toBeCloseTo(0.3 + 3 + 9, 10);
    expect(monitoringMonthlyUSD(off)).toBeCloseTo(0.3 + 3, 10);
    expect(off.find((l) => l.item.startsWith('Custom metrics'))).toBeUndefined();
    const idle = on.find((l) => l.item === 'SQS idle long polling')?.usd ?? Number.NaN;
    expect(fixedMonthlyUSD(on)).toBeCloseTo(idle + 0.3 + 3 + 9 + (730 / 1e6) * 1, 10);
  });

  it('takes the log bytes per job from the consumers’ log level and job metrics', () => {
    // Act / Assess
    expect(defaultLogBytesPerJob({ consumerLogLevel: 'DEBUG', jobMetrics: true })).toBe(300);
    expect(defaultLogBytesPerJob({ consumerLogLevel: 'INFO', jobMetrics: true })).toBe(31);
    expect(defaultLogBytesPerJob({ consumerLogLevel: 'WARN', jobMetrics: false })).toBe(0);
    const lines = monthlyBreakdown(readStackShape(template), { jobsPerMonth: 1e6, mode: 'strict' });
    expect(lines.find((l) => l.item === 'CloudWatch Logs')?.detail).toMatch(/^31 B\/job/);
  });

  it('counts schedule firings per month', () => {
    // Act / Assess
    expect(firingsPerMonth('cron(0 3 * * ? *)')).toBeCloseTo(730 / 24, 6);
    expect(firingsPerMonth('rate(5 minutes)')).toBeCloseTo((730 * 60) / 5, 6);
    expect(firingsPerMonth('at(2030-01-01T00:00:00)')).toBe(1);
  });
});
