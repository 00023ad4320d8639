/**
 * The per-job-type metric methods: the dimensions the consumer emits ({JobType, Lane}, plus Tenant
 * for job types with `tenantMetrics: true`), the cancelled and limited metrics, and `tenant`
 * checked and kept out of the cloudwatch.Metric props.
 */
import { Duration, Lazy } from 'aws-cdk-lib';
import type * as cloudwatchTypes from 'aws-cdk-lib/aws-cloudwatch';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { JOB_METRICS } from '../../../lambdas/shared/contract';
import { type IJobQueue, type JobMetricOptions, JobQueueConfigError } from '../../../lib';
import { oneLaneQueue } from './helpers';

/** The props every cloudwatch.Metric was constructed with, in order. */
const metricProps: Record<string, unknown>[] = [];
vi.mock('aws-cdk-lib/aws-cloudwatch', async (importOriginal) => {
  const original = await importOriginal<typeof cloudwatchTypes>();
  class RecordingMetric extends original.Metric {
    constructor(props: cloudwatchTypes.MetricProps) {
      metricProps.push({ ...props });
      super(props);
    }
  }
  return { ...original, Metric: RecordingMetric };
});

type JobMetricMethod = (jobType: string, props?: JobMetricOptions) => cloudwatchTypes.Metric;

function twoLaneQueue(): IJobQueue {
  return oneLaneQueue({ lanes: [{ name: 'default' }, { name: 'ordered', fifo: true }] }).queue;
}

describe('job metrics', () => {
  beforeEach(() => {
    metricProps.length = 0;
  });

  const methods: [keyof IJobQueue, string, string][] = [
    ['metricJobsSucceeded', JOB_METRICS.names.succeeded, 'Sum'],
    ['metricJobsFailed', JOB_METRICS.names.failed, 'Sum'],
    ['metricJobsRetried', JOB_METRICS.names.retried, 'Sum'],
    ['metricJobsDeadLettered', JOB_METRICS.names.deadLettered, 'Sum'],
    ['metricJobDuration', JOB_METRICS.names.duration, 'p99'],
    ['metricJobsCancelled', 'JobCancelled', 'Sum'],
    ['metricJobsLimited', 'JobLimited', 'Sum'],
  ];

  it.each(methods)('%s: %s, %s over 5 minutes, by {JobType, Lane}', (method, metricName, statistic) => {
    // Prepare
    const queue = twoLaneQueue();

    // Act
    const metric = (queue[method] as JobMetricMethod).call(queue, 'send-email');

    // Assess
    expect(metric.namespace).toBe('SqsJobs');
    expect(metric.metricName).toBe(metricName);
    expect(metric.statistic).toBe(statistic);
    expect(metric.period.toSeconds()).toBe(300);
    expect(metric.dimensions).toEqual({ JobType: 'send-email', Lane: 'default' });
  });

  it.each(methods)('%s with a tenant: by {JobType, Lane, Tenant}', (method) => {
    // Prepare
    const queue = twoLaneQueue();

    // Act
    const metric = (queue[method] as JobMetricMethod).call(queue, 'send-email', {
      lane: 'ordered',
      tenant: 'acme-corp/eu',
    });

    // Assess
    expect(metric.dimensions).toEqual({ JobType: 'send-email', Lane: 'ordered', Tenant: 'acme-corp/eu' });
  });

  it('passes neither lane nor tenant to cloudwatch.Metric, and keeps the other options', () => {
    // Prepare
    const queue = twoLaneQueue();
    metricProps.length = 0;

    // Act
    const metric = queue.metricJobsLimited('send-email', {
      lane: 'ordered',
      tenant: 't-1',
      period: Duration.minutes(1),
      label: 'limited',
    });

    // Assess
    expect(metricProps).toHaveLength(1);
    expect(metricProps[0]).not.toHaveProperty('tenant');
    expect(metricProps[0]).not.toHaveProperty('lane');
    expect(metricProps[0].dimensionsMap).toEqual({ JobType: 'send-email', Lane: 'ordered', Tenant: 't-1' });
    expect(metric.period.toSeconds()).toBe(60);
    expect(metric.label).toBe('limited');
  });

  it.each([
    ['an empty tenant', ''],
    ['a tenant of 129 characters', 'x'.repeat(129)],
    ['a tenant with a space', 'acme corp'],
    ['a tenant with a non-ASCII letter', 'café'],
    ['a tenant that is not a string', 42 as unknown as string],
  ])('rejects %s, naming tenant and the value', (_name, tenant) => {
    // Prepare
    const queue = twoLaneQueue();

    // Act
    let error: unknown;
    try {
      queue.metricJobsSucceeded('send-email', { tenant });
    } catch (e) {
      error = e;
    }

    // Assess
    expect(error).toBeInstanceOf(JobQueueConfigError);
    expect((error as JobQueueConfigError).prop).toBe('tenant');
    expect((error as Error).message).toMatch(
      /^tenant must be a string of 1-128 letters, digits and ASCII punctuation \(the SQS MessageGroupId rule\); got /,
    );
    expect((error as Error).message).toContain(`got ${JSON.stringify(tenant)}`);
  });

  it('accepts 128 characters of ASCII punctuation, and an unresolved token', () => {
    // Prepare
    const queue = twoLaneQueue();
    const longest = '!#$%&()*+,-./:;<=>?@[]^_`{|}~'.repeat(5).slice(0, 128);
    const token = Lazy.string({ produce: () => 'tenant-from-elsewhere' });

    // Act
    const fromLiteral = queue.metricJobDuration('send-email', { tenant: longest });
    const fromToken = queue.metricJobDuration('send-email', { tenant: token });

    // Assess
    expect(longest).toHaveLength(128);
    expect(fromLiteral.dimensions?.Tenant).toBe(longest);
    expect(fromToken.dimensions?.Tenant).toBe(token);
  });
});
