/**
 * Bad input in the library fails at synth with an error that names the prop (or the schedule),
 * the allowed values and the value given.
 */

import { Lazy, TimeZone } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJob, defineRegistry } from '../../../lambdas/registry';
import { JobQueueConfigError } from '../../../lib';
import { oneLaneQueue } from './helpers';

const cleanup = defineJob({
  type: 'nightly-cleanup',
  schema: z.object({ olderThanDays: z.number().int().min(1) }),
  handler: async () => undefined,
});
const registry = defineRegistry([cleanup]);
const nightly = ScheduleExpression.expression('cron(0 3 * * ? *)');

describe('lane names', () => {
  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'])(
    'rejects %s, a property every JavaScript object has',
    (name) => {
      expect(() => oneLaneQueue({ lanes: [{ name }] })).toThrow(
        new RegExp(
          `lanes\\[0\\]\\.name must be a name that is not a property every JavaScript object has .*; got "${name}"`,
        ),
      );
    },
  );

  it('treats prototype keys as unknown lanes when looking one up', () => {
    // Prepare
    const { queue } = oneLaneQueue();

    // Act + Assess
    for (const name of ['__proto__', 'constructor', 'toString']) {
      expect(() => queue.lane(name)).toThrow(JobQueueConfigError);
      expect(() => queue.addSchedule(`S-${name}`, { schedule: nightly, jobType: 'x', lane: name })).toThrow(
        /JobSchedule 'S-.*'\.lane must be one of only; got/,
      );
    }
    expect(() => oneLaneQueue({ defaultLane: 'constructor' })).toThrow(/defaultLane must be one of only/);
  });
});

describe('schedule expressions', () => {
  it.each([
    ['cron(0 3 * * *)', /cron\(\) needs 6 fields/],
    ['cron(0 3 * * * *)', /exactly one of day-of-month and day-of-week must be '\?'/],
    ['cron(61 3 * * ? *)', /'61' is outside 0-59 in the minutes field/],
    ['rate(0 minutes)', /rate\(\) needs/],
    ['rate(5 weeks)', /rate\(\) needs/],
    ['at(2030-13-01)', /at\(\) needs yyyy-mm-ddThh:mm:ss/],
    ['every day', /Not a schedule expression/],
  ])('rejects %s, naming the schedule', (expression, reason) => {
    const { queue } = oneLaneQueue();
    const thrown = (() => {
      try {
        queue.addSchedule('Nightly', { schedule: ScheduleExpression.expression(expression), jobType: 'x' });
      } catch (error) {
        return error as Error;
      }
      return undefined;
    })();
    expect(thrown).toBeInstanceOf(JobQueueConfigError);
    expect(thrown?.message).toMatch(
      /^JobSchedule 'Nightly'\.schedule must be a valid EventBridge Scheduler expression/,
    );
    expect(thrown?.message).toMatch(reason);
  });

  it('rejects an unknown time zone', () => {
    const { queue } = oneLaneQueue();
    expect(() =>
      queue.addSchedule('Nightly', {
        schedule: ScheduleExpression.expression('cron(0 3 * * ? *)', TimeZone.of('Mars/Olympus_Mons')),
        jobType: 'x',
      }),
    ).toThrow(/JobSchedule 'Nightly'\.schedule must be .*Unknown time zone 'Mars\/Olympus_Mons'/);
  });

  it('accepts cron, rate and at expressions in a time zone', () => {
    const { queue } = oneLaneQueue();
    queue.addSchedule('Cron', { schedule: nightly, jobType: 'x' });
    queue.addSchedule('Rate', { schedule: ScheduleExpression.expression('rate(5 minutes)'), jobType: 'x' });
    queue.addSchedule('Zoned', {
      schedule: ScheduleExpression.expression('cron(0 9 ? * MON-FRI *)', TimeZone.EUROPE_BERLIN),
      jobType: 'x',
    });
  });

  it('checks L, W and # (croner reads the AWS dialect), with no warning', () => {
    const { stack, queue } = oneLaneQueue();
    queue.addSchedule('Weekday', {
      schedule: ScheduleExpression.expression('cron(0 3 15W * ? *)'),
      jobType: 'x',
    });
    queue.addSchedule('LastFriday', {
      schedule: ScheduleExpression.expression('cron(0 3 ? * 6L *)'),
      jobType: 'x',
    });
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('not checked'))).toEqual([]);
    expect(() =>
      queue.addSchedule('Bad', {
        schedule: ScheduleExpression.expression('cron(0 3 32W * ? *)'),
        jobType: 'x',
      }),
    ).toThrow(/JobSchedule 'Bad'.schedule must be a valid EventBridge Scheduler expression/);
  });

  it('warns instead of failing on an expression that is a token, unresolved at synth', () => {
    const { stack, queue } = oneLaneQueue();
    queue.addSchedule('FromParameter', {
      schedule: ScheduleExpression.expression(Lazy.string({ produce: () => 'cron(0 3 * * ? *)' })),
      jobType: 'x',
    });
    Annotations.fromStack(stack).hasWarning(
      '*',
      Match.stringLikeRegexp("JobSchedule 'FromParameter'.*not checked"),
    );
  });
});

describe('schedules against the registry', () => {
  it('accepts a known job type with a valid payload', () => {
    const { queue } = oneLaneQueue({ registry });
    queue.addSchedule('Nightly', {
      schedule: nightly,
      jobType: 'nightly-cleanup',
      payload: { olderThanDays: 30 },
    });
  });

  it('rejects a job type that is not in the registry, naming the schedule and the known types', () => {
    const { queue } = oneLaneQueue({ registry });
    expect(() => queue.addSchedule('Nightly', { schedule: nightly, jobType: 'nightly-clean' })).toThrow(
      /JobSchedule 'Nightly'\.jobType must be a job type of the registry \(nightly-cleanup\); got "nightly-clean"/,
    );
  });

  it('rejects a payload that fails the job schema, naming the field', () => {
    const { queue } = oneLaneQueue({ registry });
    expect(() =>
      queue.addSchedule('Nightly', {
        schedule: nightly,
        jobType: 'nightly-cleanup',
        payload: { olderThanDays: 'thirty' },
      }),
    ).toThrow(
      /JobSchedule 'Nightly'\.payload must be a payload that passes the schema of 'nightly-cleanup' \(.*at 'olderThanDays'.*\); got \{"olderThanDays":"thirty"\}/,
    );
    expect(() => queue.addSchedule('Empty', { schedule: nightly, jobType: 'nightly-cleanup' })).toThrow(
      /JobSchedule 'Empty'\.payload must be a payload that passes the schema/,
    );
  });

  it('rejects a registry whose job names a lane the queue does not have', () => {
    const misrouted = defineRegistry([
      defineJob({ type: 'report', lane: 'reports', schema: z.object({}), handler: async () => undefined }),
    ]);
    expect(() => oneLaneQueue({ registry: misrouted })).toThrow(
      /registry job 'report' lane must be one of only; got "reports"/,
    );
  });
});
