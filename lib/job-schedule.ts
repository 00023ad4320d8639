/**
 * JobSchedule: an EventBridge Scheduler schedule (cron, rate or one-time) that enqueues a job
 * into a JobQueue lane. The job id in the target input is built from the schedule's name and
 * `<aws.scheduler.scheduled-time>`, so a retried firing is deduplicated by the ledger.
 */
import { Annotations, Duration, Names } from 'aws-cdk-lib';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { SqsSendMessage } from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { isJobType, JOB_TYPE_RULE } from '../lambdas/shared/checks';
import { ENVELOPE_VERSION } from '../lambdas/shared/contract';
import { JobQueueConfigError } from './errors';
import type { IJobQueue, IJobSchedule, JobScheduleOptions } from './interfaces';
import { checkScheduledJob, checkScheduleExpression } from './private/schedule-check';
import { checkInt, checkSeconds } from './private/validate';

export interface JobScheduleProps extends JobScheduleOptions {
  /** The queue whose lane receives the jobs: a `JobQueue`, or one imported with `JobQueue.fromJobQueueAttributes`. */
  readonly jobQueue: IJobQueue;
}

/** Scheduler's limit on a target's input. */
const MAX_INPUT_CHARS = 8192;

export class JobSchedule extends Construct implements IJobSchedule {
  public readonly schedule: scheduler.Schedule;
  /** Stable name used in every firing's job id: `cron:<jobIdPrefix>:<scheduled time>`. */
  public readonly jobIdPrefix: string;

  constructor(scope: Construct, id: string, props: JobScheduleProps) {
    super(scope, id);
    const { jobQueue } = props;
    // Every message names the schedule: a stack may hold many.
    const where = `JobSchedule '${id}'`;
    const laneName = props.lane ?? jobQueue.defaultLane;
    if (!jobQueue.laneNames.includes(laneName)) {
      throw new JobQueueConfigError(`${where}.lane`, `one of ${jobQueue.laneNames.join(', ')}`, laneName);
    }
    const lane = jobQueue.lane(laneName);
    if (!isJobType(props.jobType))
      throw new JobQueueConfigError(`${where}.jobType`, JOB_TYPE_RULE, props.jobType);
    if (jobQueue.registry) checkScheduledJob(where, jobQueue.registry, props.jobType, props.payload ?? {});
    const retryAttempts = props.retryAttempts ?? 10;
    checkInt(`${where}.retryAttempts`, retryAttempts, 0, 185);
    const maxEventAge = props.maxEventAge ?? Duration.hours(1);
    checkSeconds(`${where}.maxEventAge`, maxEventAge, 60, 86_400);
    if (props.flexibleWindow) checkSeconds(`${where}.flexibleWindow`, props.flexibleWindow, 60, 86_400);
    const note = checkScheduleExpression(
      where,
      props.schedule.expressionString,
      props.schedule.timeZone?.timezoneName,
      new Date(),
    );
    if (note === 'unchecked') {
      Annotations.of(this).addWarningV2(
        'sqs-jobs:schedule-unchecked',
        `${where}: the expression ${props.schedule.expressionString} (or its time zone) is a token, unresolved at synth time; it was not checked.`,
      );
    } else if (note === 'never-fires') {
      Annotations.of(this).addWarningV2(
        'sqs-jobs:schedule-never-fires',
        `${where}: the expression ${props.schedule.expressionString} has no firing after now.`,
      );
    }
    const isOneTime = props.schedule.expressionString.startsWith('at(');

    this.jobIdPrefix = Names.uniqueResourceName(this, { maxLength: 64 });
    const scheduledTime = scheduler.ContextAttribute.scheduledTime;
    const envelope = {
      v: ENVELOPE_VERSION,
      id: `cron:${this.jobIdPrefix}:${scheduledTime}`,
      type: props.jobType,
      payload: props.payload ?? {},
      enqueuedAt: scheduledTime,
    };
    const input = JSON.stringify(envelope);
    if (input.length > MAX_INPUT_CHARS) {
      throw new JobQueueConfigError(
        `${where}.payload`,
        `at most ${MAX_INPUT_CHARS} characters once wrapped in the job envelope`,
        `${input.length} characters`,
      );
    }

    const messageGroupId = props.messageGroupId ?? this.jobIdPrefix;
    if (lane.fifo) checkInt(`${where}.messageGroupId.length`, messageGroupId.length, 1, 128);
    this.schedule = new scheduler.Schedule(this, 'Resource', {
      schedule: props.schedule,
      scheduleGroup: jobQueue.scheduleGroup,
      enabled: props.enabled ?? true,
      description: props.description ?? `Enqueues ${props.jobType} jobs into the ${laneName} lane`,
      timeWindow: props.flexibleWindow
        ? scheduler.TimeWindow.flexible(props.flexibleWindow)
        : scheduler.TimeWindow.off(),
      target: new SqsSendMessage(lane.queue, {
        input: scheduler.ScheduleTargetInput.fromText(input),
        role: jobQueue.schedulerRole,
        deadLetterQueue: jobQueue.scheduleDeadLetterQueue,
        retryAttempts,
        maxEventAge,
        messageGroupId: lane.fifo ? messageGroupId : undefined,
      }),
    });
    // The group is referenced by its generated name, not a Ref: without this, CloudFormation may
    // create the schedule before its group.
    this.schedule.node.addDependency(jobQueue.scheduleGroup);
    if (isOneTime) {
      // CloudFormation has no ActionAfterCompletion (aws-cdk issue 27455), and a stack resource that
      // deleted itself would drift: a stack-managed one-time schedule stays until removed from the app.
      // Delays created at run time (JobClient) use the API, where DELETE is set.
      Annotations.of(this).addWarningV2(
        'sqs-jobs:one-time-schedule',
        'A one-time schedule in the stack is not deleted after it fires; remove it from the app afterwards, or enqueue with JobClient (runAt / delay) for self-deleting one-time jobs.',
      );
    }
  }
}
