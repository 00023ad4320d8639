/**
 * Synth-time checks of a JobSchedule: its expression and time zone (read with the same
 * EventBridge Scheduler expression reader the CLI uses, lambdas/shared/schedule-expression, so
 * both agree on what is valid), its job type and its payload (against the registry, when the
 * JobQueue was given one).
 */
import { Token } from 'aws-cdk-lib';
import { parsePayload } from '../../lambdas/registry/define-job';
import type { JobRegistry } from '../../lambdas/registry/types';
import { nextFiring, ScheduleExpressionError } from '../../lambdas/shared/schedule-expression';
import { JobQueueConfigError } from '../errors';

/** What a check found that does not stop synthesis. */
export type ExpressionNote = 'unchecked' | 'never-fires' | undefined;

/**
 * Throws JobQueueConfigError (prop `where.schedule`) when the expression or its time zone cannot
 * be read. Returns a note for what it could not check (an expression or time zone that is a
 * token, unresolved at synth) or a schedule that never fires again.
 */
export function checkScheduleExpression(
  where: string,
  expression: string,
  timezone: string | undefined,
  now: Date,
): ExpressionNote {
  if (Token.isUnresolved(expression) || (timezone !== undefined && Token.isUnresolved(timezone))) {
    return 'unchecked';
  }
  try {
    return nextFiring(expression, { now, timezone }) === undefined ? 'never-fires' : undefined;
  } catch (error) {
    if (!(error instanceof ScheduleExpressionError)) throw error;
    throw new JobQueueConfigError(
      `${where}.schedule`,
      `a valid EventBridge Scheduler expression in a known time zone (${error.message})`,
      timezone ? `${expression} in ${timezone}` : expression,
      { cause: error },
    );
  }
}

/** Throws JobQueueConfigError naming the schedule when the job type is unknown or the payload fails its schema. */
export function checkScheduledJob(
  where: string,
  registry: JobRegistry,
  jobType: string,
  payload: Record<string, unknown>,
): void {
  const job = registry.get(jobType);
  if (!job) {
    throw new JobQueueConfigError(
      `${where}.jobType`,
      `a job type of the registry (${registry.types.join(', ')})`,
      jobType,
    );
  }
  try {
    parsePayload(job, payload);
  } catch (error) {
    throw new JobQueueConfigError(
      `${where}.payload`,
      `a payload that passes the schema of '${jobType}' (${(error as Error).message})`,
      payload,
      { cause: error },
    );
  }
}
