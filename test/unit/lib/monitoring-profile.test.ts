/**
 * monitoringProfile, jobMetrics and consumerLogLevel: which alarms, dashboard and custom metrics
 * each profile creates, and the log level the consumers get.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import type { JobQueueProps } from '../../../lib';
import { oneLaneQueue } from './helpers';

function synth(props: Partial<JobQueueProps> = {}) {
  const { stack, queue } = oneLaneQueue(props);
  return { template: Template.fromStack(stack), queue };
}

const LANE_ALARMS_LEAN = [
  'only/depth',
  'only/dlq-depth',
  'only/dlq-growth',
  'only/consumer-errors',
  'only/consumer-throttles',
  'only/duration-p99',
];
const SCHEDULER_ALARMS_LEAN = ['scheduler/InvocationsFailedToBeSentToDeadLetterCount', 'scheduler/dlq-depth'];

describe('monitoringProfile', () => {
  it("defaults to 'full': 7 alarms per lane, 5 for the scheduler, the dashboard and job metrics", () => {
    // Act
    const { template, queue } = synth();

    // Assess
    expect(queue.monitoring.profile).toBe('full');
    template.resourceCountIs('AWS::CloudWatch::Alarm', 7 + 5);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    expect([...queue.monitoring.alarms.keys()]).toEqual(
      expect.arrayContaining(['only/age', 'scheduler/InvocationDroppedCount', 'scheduler/TargetErrorCount']),
    );
    const env = template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: { JOBS_LANE: 'only' } } },
    });
    const vars = Object.values(env)[0].Properties.Environment.Variables;
    expect(vars.POWERTOOLS_METRICS_DISABLED).toBeUndefined();
  });

  it("'lean' keeps the alerting table's alarms only, with no dashboard and no custom metrics", () => {
    // Act
    const { template, queue } = synth({ monitoringProfile: 'lean' });

    // Assess
    expect([...queue.monitoring.alarms.keys()].sort()).toEqual(
      [...LANE_ALARMS_LEAN, ...SCHEDULER_ALARMS_LEAN].sort(),
    );
    template.resourceCountIs(
      'AWS::CloudWatch::Alarm',
      LANE_ALARMS_LEAN.length + SCHEDULER_ALARMS_LEAN.length,
    );
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    template.resourceCountIs('AWS::CloudWatch::CompositeAlarm', 0);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ JOBS_LANE: 'only', POWERTOOLS_METRICS_DISABLED: 'true' }),
      },
    });
  });

  it("'lean' with dashboard and jobMetrics turned back on creates both", () => {
    // Act
    const { template } = synth({ monitoringProfile: 'lean', dashboard: true, jobMetrics: true });

    // Assess
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const fn = Object.values(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Environment: { Variables: { JOBS_LANE: 'only' } } },
      }),
    )[0];
    expect(fn.Properties.Environment.Variables.POWERTOOLS_METRICS_DISABLED).toBeUndefined();
  });

  it("'full' with jobMetrics: false and dashboard: false drops both", () => {
    // Act
    const { template } = synth({ jobMetrics: false, dashboard: false });

    // Assess
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_METRICS_DISABLED: 'true' }) },
    });
  });

  it('tags each alarm with the severity of its row in the alerting table', () => {
    // Act
    const { template, queue } = synth();

    // Assess
    const severities = queue.monitoring.severities;
    expect(severities.get('only/depth')).toBe('warning');
    expect(severities.get('only/dlq-depth')).toBe('warning');
    expect(severities.get('only/dlq-growth')).toBe('critical');
    expect(severities.get('only/duration-p99')).toBe('warning');
    expect(severities.get('only/consumer-errors')).toBe('critical');
    expect(severities.get('scheduler/InvocationsFailedToBeSentToDeadLetterCount')).toBe('critical');
    expect(severities.size).toBe(queue.monitoring.alarms.size);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('^\\[critical\\] The only dead-letter queue grew'),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp(
        '^\\[warning\\] Jobs are waiting in the only dead-letter queue',
      ),
    });
  });
});

describe('consumerLogLevel', () => {
  it("gives every consumer POWERTOOLS_LOG_LEVEL 'INFO' by default", () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ JOBS_LANE: 'only', POWERTOOLS_LOG_LEVEL: 'INFO' }) },
    });
  });

  it.each(['DEBUG', 'WARN', 'ERROR'] as const)('passes %s through', (level) => {
    const { template } = synth({ consumerLogLevel: level });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ JOBS_LANE: 'only', POWERTOOLS_LOG_LEVEL: level }) },
    });
  });
});
