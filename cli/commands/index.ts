/** Every command, in the order `--help` lists them. */
import { cancelCommand } from './cancel';
import { consoleCommand } from './console';
import { dlqListCommand } from './dlq-list';
import { dlqPurgeCommand } from './dlq-purge';
import { dlqRedriveCommand } from './dlq-redrive';
import { dlqDeleteCommand, dlqRetryCommand } from './dlq-retry';
import { enqueueCommand } from './enqueue';
import { chainCommand, groupCommand } from './group';
import { jobsListCommand } from './jobs-list';
import { schedulesCommand } from './schedules';
import { statsCommand, topCommand } from './stats';
import { statusCommand } from './status';
import type { CommandSpec } from './types';

export const COMMANDS: readonly CommandSpec[] = [
  statusCommand,
  cancelCommand,
  jobsListCommand,
  enqueueCommand,
  groupCommand,
  chainCommand,
  statsCommand,
  topCommand,
  dlqListCommand,
  dlqRetryCommand,
  dlqDeleteCommand,
  dlqRedriveCommand,
  dlqPurgeCommand,
  schedulesCommand,
  consoleCommand,
];

export type { CommandSpec, RunContext } from './types';
