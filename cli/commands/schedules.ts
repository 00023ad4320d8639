/** `schedules`: the schedules in the queue's schedule group, with their next firing time. */
import {
  GetScheduleCommand,
  type GetScheduleCommandOutput,
  ListSchedulesCommand,
  type ListSchedulesCommandOutput,
} from '@aws-sdk/client-scheduler';
import type { JobQueueConfig } from '../../lambdas/shared/contract';
import { nextFiring } from '../../lambdas/shared/schedule-expression';
import type { StackContext } from '../context';
import { duration, json, table } from '../render';
import type { CommandSpec } from './types';

export interface ScheduleInfo {
  readonly name: string;
  readonly state?: string;
  readonly expression?: string;
  readonly timezone: string;
  readonly lane?: string;
  readonly jobType?: string;
  /** ISO time; null when disabled, past its end, or the expression could not be read. */
  readonly nextFiring: string | null;
  /** The next UPCOMING_FIRINGS firing times (ISO, UTC), when there are any. */
  readonly upcoming?: readonly string[];
  readonly note?: string;
}

/** How many coming firings `describe` computes per schedule. */
export const UPCOMING_FIRINGS = 3;

export const schedulesCommand: CommandSpec = {
  name: 'schedules',
  args: [],
  summary: "List the stack's schedules (its Scheduler group) with their next firing time",
  description: 'Includes the one-time at() schedules JobClient creates for delays over 15 minutes.',
  options: {},
  examples: ['sqs-jobs schedules', 'sqs-jobs schedules --json'],
  async run({ stack, globals, io, out }) {
    const now = new Date(io.now());
    const { scheduleGroup, schedules } = await listSchedules(stack, now);
    if (globals.json) {
      out(json({ scheduleGroup, schedules }));
      return 0;
    }
    if (schedules.length === 0) {
      out(`No schedules in group ${scheduleGroup}.\n`);
      return 0;
    }
    out(
      table(
        ['NAME', 'STATE', 'EXPRESSION', 'TZ', 'LANE', 'JOB TYPE', 'NEXT FIRING', 'IN'],
        schedules.map((s) => [
          s.name,
          s.state,
          s.expression,
          s.timezone,
          s.lane,
          s.jobType,
          s.nextFiring ?? s.note,
          s.nextFiring ? duration((Date.parse(s.nextFiring) - now.getTime()) / 1000) : undefined,
        ]),
      ),
    );
    return 0;
  },
};

/** Every schedule in the queue's Scheduler group, soonest next firing first. Shared by the CLI and the console. */
export async function listSchedules(
  stack: StackContext,
  now: Date,
): Promise<{ scheduleGroup: string; schedules: ScheduleInfo[] }> {
  const config = await stack.config();
  const scheduler = stack.clients.scheduler;
  const names: string[] = [];
  let token: string | undefined;
  do {
    const page: ListSchedulesCommandOutput = await scheduler.send(
      new ListSchedulesCommand({ GroupName: config.scheduleGroup, NextToken: token }),
    );
    for (const s of page.Schedules ?? []) if (s.Name) names.push(s.Name);
    token = page.NextToken;
  } while (token);
  const details = await Promise.all(
    names.map((name) =>
      scheduler.send(new GetScheduleCommand({ Name: name, GroupName: config.scheduleGroup })),
    ),
  );
  return {
    scheduleGroup: config.scheduleGroup,
    schedules: details.map((d) => describe(d, config, now)).sort(byNext),
  };
}

export function describe(d: GetScheduleCommandOutput, config: JobQueueConfig, now: Date): ScheduleInfo {
  const timezone = d.ScheduleExpressionTimezone || 'UTC';
  const lane = Object.entries(config.lanes).find(([, l]) => l.queueArn === d.Target?.Arn)?.[0];
  const base = {
    name: d.Name ?? '',
    state: d.State,
    expression: d.ScheduleExpression,
    timezone,
    lane,
    jobType: jobTypeOf(d.Target?.Input),
  };
  if (d.State === 'DISABLED') return { ...base, nextFiring: null, note: 'disabled' };
  if (!d.ScheduleExpression) return { ...base, nextFiring: null, note: 'no expression' };
  try {
    const upcoming: string[] = [];
    let after = now;
    while (upcoming.length < UPCOMING_FIRINGS) {
      const next = nextFiring(d.ScheduleExpression, {
        now: after,
        timezone,
        startDate: d.StartDate ? new Date(d.StartDate) : undefined,
        endDate: d.EndDate ? new Date(d.EndDate) : undefined,
        creationDate: d.CreationDate ? new Date(d.CreationDate) : undefined,
      });
      if (!next) break;
      upcoming.push(next.toISOString());
      after = next;
    }
    return upcoming.length > 0
      ? { ...base, nextFiring: upcoming[0], upcoming }
      : { ...base, nextFiring: null, note: 'never again' };
  } catch (error) {
    return { ...base, nextFiring: null, note: (error as Error).message };
  }
}

function jobTypeOf(input: string | undefined): string | undefined {
  if (!input) return undefined;
  try {
    const type = (JSON.parse(input) as { type?: unknown }).type;
    return typeof type === 'string' ? type : undefined;
  } catch {
    return undefined;
  }
}

function byNext(a: ScheduleInfo, b: ScheduleInfo): number {
  if (a.nextFiring && b.nextFiring) return a.nextFiring.localeCompare(b.nextFiring);
  if (a.nextFiring) return -1;
  if (b.nextFiring) return 1;
  return a.name.localeCompare(b.name);
}
