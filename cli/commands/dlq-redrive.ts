/**
 * `dlq redrive <lane>`: an SQS message move task from the lane's DLQ back to the lane, with a
 * progress bar until it ends. SQS runs one task per source queue at a time.
 *
 * No ledger change is needed: the consumer's claim accepts DEAD jobs (DEAD → RUNNING), so every
 * redriven job runs again. The destination is named explicitly because jobs the consumer
 * dead-lettered itself (SendMessage) have no SQS source queue recorded.
 */
import {
  ListMessageMoveTasksCommand,
  type ListMessageMoveTasksResultEntry,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import type { Lane, StackContext } from '../context';
import { CliError, EXIT, MoveTaskRunningError } from '../errors';
import { wholeNumber } from '../flags';
import { json, progressBar } from '../render';
import { attributes } from '../stats';
import type { CommandSpec } from './types';

export const dlqRedriveCommand: CommandSpec = {
  name: 'dlq redrive',
  args: ['<lane>'],
  summary: "Move every message in the lane's DLQ back to the lane (StartMessageMoveTask)",
  description: [
    'Shows a progress bar (on stderr) until the task ends; Ctrl-C stops watching, not the task.',
    "Fails with exit code 1 when a move task is already running on the DLQ. The ledger's DEAD",
    "records need no reset: the consumer's claim accepts DEAD jobs.",
  ].join('\n'),
  options: {
    rate: {
      type: 'string',
      valueName: 'n',
      description: 'At most n messages per second (1-500; default: SQS decides)',
    },
    'no-wait': { type: 'boolean', description: 'Start the task and return without watching it' },
  },
  examples: ['sqs-jobs dlq redrive default', 'sqs-jobs dlq redrive high --rate 10'],
  async run({ args, values, stack, globals, io, signal, out, note }) {
    const rate = parseRate(values.rate as string | undefined);
    const started = await startRedrive(stack, args[0], rate);
    const lane = started.lane;
    if (started.status === 'EMPTY') {
      out(
        globals.json
          ? json({ lane: lane.name, status: 'EMPTY', moved: 0 })
          : `The ${lane.name} DLQ is empty: nothing to redrive.\n`,
      );
      return 0;
    }
    const { handle, depth } = started;
    if (values['no-wait']) {
      out(
        globals.json
          ? json({ lane: lane.name, status: 'RUNNING', taskHandle: handle })
          : `Started move task ${handle}\n`,
      );
      return 0;
    }
    const task = await watch(stack, lane, handle, io.isTTY && !globals.json, signal, note);
    const moved = task?.ApproximateNumberOfMessagesMoved ?? 0;
    const total = task?.ApproximateNumberOfMessagesToMove ?? depth;
    const status = signal.aborted ? 'WATCH_STOPPED' : (task?.Status ?? 'UNKNOWN');
    const result = {
      lane: lane.name,
      status,
      moved,
      toMove: total,
      taskHandle: handle,
      failureReason: task?.FailureReason,
    };
    if (globals.json) out(json(result));
    else if (status === 'COMPLETED')
      out(`Moved ${moved} of ${total} messages from the ${lane.name} DLQ back to the lane.\n`);
    else
      out(
        `Move task ${status}: ${moved} of ${total} moved${task?.FailureReason ? ` (${task.FailureReason})` : ''}.\n`,
      );
    if (status === 'FAILED' || status === 'CANCELLED' || status === 'CANCELLING') {
      throw new CliError(`Move task for lane '${lane.name}' ended ${status}`, EXIT.failure);
    }
    return 0;
  },
};

export type RedriveStart =
  | { readonly status: 'EMPTY'; readonly lane: Lane }
  | { readonly status: 'RUNNING'; readonly lane: Lane; readonly handle?: string; readonly depth: number };

/**
 * Starts a message move task from the lane's DLQ back to the lane (nothing when the DLQ is empty);
 * a MoveTaskRunningError when one already runs. Shared by the CLI and the console.
 */
export async function startRedrive(
  stack: StackContext,
  laneName: string,
  rate?: number,
): Promise<RedriveStart> {
  const lane = await stack.lane(laneName);
  const running = (await moveTasks(stack, lane)).find((t) => t.Status === 'RUNNING');
  if (running) throw alreadyRunning(lane, running);
  const { ApproximateNumberOfMessages: depth } = await attributes(stack, lane.dlqUrl, [
    'ApproximateNumberOfMessages',
  ]);
  if (depth === 0) return { status: 'EMPTY', lane };
  try {
    const started = await stack.clients.sqs.send(
      new StartMessageMoveTaskCommand({
        SourceArn: lane.dlqArn,
        DestinationArn: lane.queueArn,
        ...(rate === undefined ? {} : { MaxNumberOfMessagesPerSecond: rate }),
      }),
    );
    return { status: 'RUNNING', lane, handle: started.TaskHandle, depth };
  } catch (error) {
    // Lost a race with another task start: report it the same way.
    if (/running|in progress|already/i.test((error as Error).message ?? '')) {
      const other = (await moveTasks(stack, lane).catch(() => [])).find((t) => t.Status === 'RUNNING');
      throw alreadyRunning(lane, other, error);
    }
    throw error;
  }
}

export async function moveTasks(stack: StackContext, lane: Lane): Promise<ListMessageMoveTasksResultEntry[]> {
  const out = await stack.clients.sqs.send(
    new ListMessageMoveTasksCommand({ SourceArn: lane.dlqArn, MaxResults: 10 }),
  );
  return out.Results ?? [];
}

async function watch(
  stack: StackContext,
  lane: Lane,
  handle: string | undefined,
  redraw: boolean,
  signal: AbortSignal,
  note: (text: string) => void,
): Promise<ListMessageMoveTasksResultEntry | undefined> {
  let task: ListMessageMoveTasksResultEntry | undefined;
  let last = '';
  for (;;) {
    const tasks = await moveTasks(stack, lane);
    task = tasks.find((t) => handle !== undefined && t.TaskHandle === handle) ?? tasks[0];
    const bar = `${lane.name} DLQ → ${lane.name}: ${progressBar(
      task?.ApproximateNumberOfMessagesMoved ?? 0,
      task?.ApproximateNumberOfMessagesToMove ?? 0,
    )}`;
    if (redraw) note(`\r${bar}`);
    else if (bar !== last) note(`${bar}\n`);
    last = bar;
    if (task?.Status !== 'RUNNING' || signal.aborted) break;
    await stack.io.sleep(1000, signal);
  }
  if (redraw) note('\n');
  return task;
}

function alreadyRunning(
  lane: Lane,
  task: ListMessageMoveTasksResultEntry | undefined,
  cause?: unknown,
): MoveTaskRunningError {
  const progress = task
    ? ` (${task.ApproximateNumberOfMessagesMoved ?? 0} of ${task.ApproximateNumberOfMessagesToMove ?? '?'} moved, started ${task.StartedTimestamp ? new Date(task.StartedTimestamp).toISOString() : '?'})`
    : '';
  return new MoveTaskRunningError(
    `A message move task is already running on the ${lane.name} DLQ${progress}`,
    {
      cause,
      hint: task?.TaskHandle
        ? `Wait for it (sqs-jobs stats), or cancel it: aws sqs cancel-message-move-task --task-handle ${task.TaskHandle}`
        : 'Wait for it to finish, then run the redrive again.',
    },
  );
}

function parseRate(raw: string | undefined): number | undefined {
  // StartMessageMoveTask's MaxNumberOfMessagesPerSecond range.
  return raw === undefined ? undefined : wholeNumber('--rate', raw, 1, 500, ' of messages per second');
}
