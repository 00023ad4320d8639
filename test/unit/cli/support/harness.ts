/** Runs `main` in-process with captured output, against aws-sdk-client-mock'd clients. */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import type { CliIo } from '../../../../cli/io';
import { main } from '../../../../cli/main';
import {
  CONFIG_OUTPUT_DESCRIPTION,
  ENVELOPE_VERSION,
  type JobQueueConfig,
} from '../../../../lambdas/shared/contract';
import { DEFAULT_STACK_NAME } from '../../../../lambdas/shared/defaults';

const ACCOUNT = '123456789012';
const sqsUrl = (name: string) => `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/${name}`;
const sqsArn = (name: string) => `arn:aws:sqs:us-east-1:${ACCOUNT}:${name}`;

function lane(name: string, fifo = false) {
  const suffix = fifo ? '.fifo' : '';
  return {
    queueUrl: sqsUrl(`jobs-${name}${suffix}`),
    queueArn: sqsArn(`jobs-${name}${suffix}`),
    dlqUrl: sqsUrl(`jobs-${name}-dlq${suffix}`),
    dlqArn: sqsArn(`jobs-${name}-dlq${suffix}`),
    fifo,
    maxAttempts: 4,
    functionName: `consumer-${name}`,
  };
}

export const CONFIG: JobQueueConfig = {
  version: 1,
  tableName: 'ledger',
  defaultLane: 'default',
  lanes: { high: lane('high'), default: lane('default'), ordered: lane('ordered', true) },
  scheduleGroup: 'jobs-schedules',
  schedulerRoleArn: `arn:aws:iam::${ACCOUNT}:role/scheduler`,
  scheduleDlqArn: sqsArn('schedule-dlq'),
  alarmTopicArn: `arn:aws:sns:us-east-1:${ACCOUNT}:alarms`,
};

export const mocks = {
  cfn: mockClient(CloudFormationClient),
  sqs: mockClient(SQSClient),
  ddb: mockClient(DynamoDBClient),
  scheduler: mockClient(SchedulerClient),
  cloudwatch: mockClient(CloudWatchClient),
};

/** Reset every mock and answer DescribeStacks with CONFIG. */
export function resetMocks(): void {
  for (const m of Object.values(mocks)) m.reset();
  mocks.cfn.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: DEFAULT_STACK_NAME,
        CreationTime: new Date(),
        StackStatus: 'CREATE_COMPLETE',
        Outputs: [
          { OutputKey: 'Other', OutputValue: 'x' },
          {
            OutputKey: 'JobsConfig',
            OutputValue: JSON.stringify(CONFIG),
            Description: CONFIG_OUTPUT_DESCRIPTION,
          },
        ],
      },
    ],
  });
}

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A file system with no files and a home without ~/.aws: the tests never see the machine's. */
export const NO_FILES = { readText: () => undefined, homeDir: '/home/nobody' } as const;

/** A file system holding just `files` (path → text). */
export function someFiles(files: Record<string, string>, homeDir = '/home/nobody') {
  return { readText: (file: string) => (Object.hasOwn(files, file) ? files[file] : undefined), homeDir };
}

export async function run(
  argv: string[],
  now = Date.parse('2026-03-01T12:00:00Z'),
  io: Partial<CliIo> = {},
): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env: {},
    cwd: process.cwd(),
    files: NO_FILES,
    isTTY: false,
    now: () => now,
    sleep: async () => undefined,
    ...io,
  });
  return { code, stdout, stderr };
}

export function body(id: string, type = 'flaky-task', payload: unknown = {}): string {
  return JSON.stringify({ v: ENVELOPE_VERSION, id, type, payload, enqueuedAt: '2026-03-01T11:00:00.000Z' });
}

/** An Error with the SDK's service-error shape. */
export function serviceError(name: string, message: string, status = 400): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}
