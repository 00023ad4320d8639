/**
 * EventBridge Scheduler stand-in for LocalStack, which stores schedules but never fires them.
 *
 * It reads the deployed schedules (ListSchedules / GetSchedule) and delivers their target input to
 * the target SQS queue the way Scheduler would: context placeholders such as
 * `<aws.scheduler.scheduled-time>` filled in, the FIFO message group from SqsParameters, and
 * one-time schedules with ActionAfterCompletion DELETE deleted after they fire.
 */
import { randomUUID } from 'node:crypto';
import {
  DeleteScheduleCommand,
  GetScheduleCommand,
  type GetScheduleCommandOutput,
  ListSchedulesCommand,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';

export interface FiredSchedule {
  readonly name: string;
  readonly scheduledTime: string;
  readonly messageId?: string;
  readonly deleted: boolean;
}

export class SchedulerStandIn {
  constructor(
    private readonly scheduler = new SchedulerClient({}),
    private readonly sqs = new SQSClient({}),
  ) {}

  /** Every schedule of the group, with its full definition. */
  async list(groupName: string): Promise<GetScheduleCommandOutput[]> {
    const schedules: GetScheduleCommandOutput[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.scheduler.send(new ListSchedulesCommand({ GroupName: groupName, NextToken }));
      for (const summary of page.Schedules ?? []) {
        schedules.push(
          await this.scheduler.send(new GetScheduleCommand({ GroupName: groupName, Name: summary.Name })),
        );
      }
      NextToken = page.NextToken;
    } while (NextToken);
    return schedules;
  }

  /**
   * Fires one schedule as Scheduler would at `scheduledTime` (default: now, to the second).
   * Firing twice with the same time is what a Scheduler retry looks like.
   */
  async fire(groupName: string, name: string, scheduledTime = new Date()): Promise<FiredSchedule> {
    const schedule = await this.scheduler.send(new GetScheduleCommand({ GroupName: groupName, Name: name }));
    return this.deliver(groupName, schedule, scheduledTime);
  }

  /** Fires every one-time `at(...)` schedule of the group whose time has come. */
  async fireDue(groupName: string, now = new Date()): Promise<FiredSchedule[]> {
    const fired: FiredSchedule[] = [];
    for (const schedule of await this.list(groupName)) {
      const at = atTime(schedule.ScheduleExpression ?? '');
      if (at && at.getTime() <= now.getTime() && schedule.State !== 'DISABLED') {
        fired.push(await this.deliver(groupName, schedule, at));
      }
    }
    return fired;
  }

  private async deliver(
    groupName: string,
    schedule: GetScheduleCommandOutput,
    scheduledTime: Date,
  ): Promise<FiredSchedule> {
    const target = schedule.Target;
    if (!target?.Arn?.startsWith('arn:aws:sqs:')) {
      throw new Error(
        `schedule ${schedule.Name}: the stand-in delivers only to SQS targets, got ${target?.Arn}`,
      );
    }
    const time = `${scheduledTime.toISOString().slice(0, 19)}Z`;
    const input = (target.Input ?? '{}')
      .replaceAll('<aws.scheduler.scheduled-time>', time)
      .replaceAll('<aws.scheduler.schedule-arn>', schedule.Arn ?? '')
      .replaceAll('<aws.scheduler.execution-id>', randomUUID())
      .replaceAll('<aws.scheduler.attempt-number>', '1');
    const [, , , , account, queueName] = target.Arn.split(':');
    const { QueueUrl } = await this.sqs.send(
      new GetQueueUrlCommand({ QueueName: queueName, QueueOwnerAWSAccountId: account }),
    );
    const sent = await this.sqs.send(
      new SendMessageCommand({
        QueueUrl,
        MessageBody: input,
        MessageGroupId: target.SqsParameters?.MessageGroupId,
      }),
    );
    const deleted =
      schedule.ActionAfterCompletion === 'DELETE' && atTime(schedule.ScheduleExpression ?? '') !== undefined;
    if (deleted)
      await this.scheduler.send(new DeleteScheduleCommand({ GroupName: groupName, Name: schedule.Name }));
    return { name: schedule.Name ?? '', scheduledTime: time, messageId: sent.MessageId, deleted };
  }
}

/** The time of an `at(yyyy-mm-ddThh:mm:ss)` expression (UTC unless a time zone says otherwise), else undefined. */
export function atTime(expression: string): Date | undefined {
  const match = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/.exec(expression);
  return match ? new Date(`${match[1]}Z`) : undefined;
}
