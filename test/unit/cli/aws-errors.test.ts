/** Exit codes and messages for AWS failures, with the SDK clients mocked. */
import { type CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { beforeEach, describe, expect, it } from 'vitest';
import { toCliError } from '../../../cli/classify';
import { EXIT } from '../../../cli/errors';
import { DEFAULT_STACK_NAME } from '../../../lambdas/shared/defaults';
import { CONFIG, mocks, NO_FILES, resetMocks, run, serviceError, someFiles } from './support/harness';

beforeEach(resetMocks);

describe('AWS error paths', () => {
  it('exits 3 naming the stack when it does not exist', async () => {
    // Prepare
    mocks.cfn
      .on(DescribeStacksCommand)
      .rejects(serviceError('ValidationError', 'Stack with id Nope does not exist'));

    // Act
    const result = await run(['stats', '--stack', 'Nope', '--endpoint-url', 'http://127.0.0.1:4566']);

    // Assess
    expect(result.code).toBe(EXIT.notFound);
    expect(result.stderr).toMatch(/Stack 'Nope' not found at the AWS endpoint http:\/\/127.0.0.1:4566/);
    expect(result.stderr).toMatch(/hint: .*--stack/);
  });

  it('exits 3 when the stack has no JobQueue config output', async () => {
    // Prepare
    mocks.cfn.on(DescribeStacksCommand).resolves({
      Stacks: [{ StackName: 'S', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: [] }],
    });

    // Act
    const result = await run(['status', 'j1', '--stack', 'S']);

    // Assess
    expect(result.code).toBe(EXIT.notFound);
    expect(result.stderr).toMatch(/Stack 'S' has no single JobQueue config output/);
  });

  it('exits 5 with a hint when no credentials can be found', async () => {
    // Prepare
    const error = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
    mocks.cfn.on(DescribeStacksCommand).rejects(error);

    // Act
    const result = await run(['stats']);

    // Assess
    expect(result.code).toBe(EXIT.aws);
    expect(result.stderr).toMatch(/No AWS credentials found/);
    expect(result.stderr).toMatch(/hint: Set AWS_PROFILE/);
  });

  it('exits 5 naming the endpoint when it is unreachable', async () => {
    // Prepare
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4599'), { code: 'ECONNREFUSED' });
    mocks.cfn.on(DescribeStacksCommand).rejects(refused);

    // Act
    const result = await run(['dlq', 'list', 'default', '--endpoint-url', 'http://127.0.0.1:4599', '--json']);

    // Assess
    expect(result.code).toBe(EXIT.aws);
    expect(JSON.parse(result.stderr).error).toMatchObject({
      type: 'AwsError',
      exitCode: 5,
      message:
        'Cannot reach the AWS endpoint http://127.0.0.1:4599 (ECONNREFUSED; endpoint from --endpoint-url)',
    });
  });

  it('exits 5 when AWS rejects the credentials', async () => {
    // Prepare
    mocks.cfn
      .on(DescribeStacksCommand)
      .rejects(serviceError('InvalidClientTokenId', 'The security token is invalid', 403));

    // Act
    const result = await run(['schedules']);

    // Assess
    expect(result.code).toBe(EXIT.aws);
    expect(result.stderr).toMatch(/AWS rejected the credentials: InvalidClientTokenId/);
  });

  it('exits 3 for an unknown lane, listing the lanes', async () => {
    // Act
    const result = await run(['dlq', 'list', 'urgent']);

    // Assess
    expect(result.code).toBe(EXIT.notFound);
    expect(result.stderr).toMatch(/Unknown lane 'urgent'.*high, default, ordered/);
  });

  it('exits 3 for an unknown job id', async () => {
    // Prepare
    mocks.ddb.on(GetItemCommand).resolves({});

    // Act
    const result = await run(['status', 'missing-job']);

    // Assess
    expect(result.code).toBe(EXIT.notFound);
    expect(result.stderr).toMatch(/No ledger record for job 'missing-job' in table ledger/);
  });

  it('exits 3 when a retried job is not in the DLQ, releasing what it looked at', async () => {
    // Prepare
    mocks.sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [{ MessageId: 'm1', ReceiptHandle: 'r1', Body: '{}' }] })
      .resolves({ Messages: [] });

    // Act
    const result = await run(['dlq', 'retry', 'default', 'ghost']);

    // Assess
    expect(result.code).toBe(EXIT.notFound);
    expect(result.stderr).toMatch(/Job 'ghost' is not in the DLQ of lane 'default' \(1 messages looked at\)/);
    const release = mocks.sqs.commandCalls(
      (await import('@aws-sdk/client-sqs')).ChangeMessageVisibilityBatchCommand,
    );
    expect(release[0].args[0].input.Entries).toEqual([
      { Id: '0', ReceiptHandle: 'r1', VisibilityTimeout: 0 },
    ]);
  });

  it('exits 1 with the task progress and a cancel hint when a move task is already running', async () => {
    // Prepare
    mocks.sqs.on(ListMessageMoveTasksCommand).resolves({
      Results: [
        {
          TaskHandle: 'handle-1',
          Status: 'RUNNING',
          ApproximateNumberOfMessagesMoved: 3,
          ApproximateNumberOfMessagesToMove: 10,
          StartedTimestamp: Date.parse('2026-03-01T11:59:00Z'),
        },
      ],
    });

    // Act
    const result = await run(['dlq', 'redrive', 'default']);

    // Assess
    expect(result.code).toBe(EXIT.failure);
    expect(result.stderr).toMatch(/already running on the default DLQ \(3 of 10 moved/);
    expect(result.stderr).toMatch(/cancel-message-move-task --task-handle handle-1/);
    expect(mocks.sqs.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
  });

  it('exits 1 when StartMessageMoveTask loses the race to another task', async () => {
    // Prepare
    mocks.sqs.on(ListMessageMoveTasksCommand).resolves({ Results: [] });
    mocks.sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '4' } });
    mocks.sqs
      .on(StartMessageMoveTaskCommand)
      .rejects(
        serviceError(
          'UnsupportedOperation',
          'There is already a task running. Only one active task is allowed',
        ),
      );

    // Act
    const result = await run(['dlq', 'redrive', 'default']);

    // Assess
    expect(result.code).toBe(EXIT.failure);
    expect(result.stderr).toMatch(/already running/);
  });

  it('exits 1 with a retry hint when a purge is already in progress', async () => {
    // Prepare
    mocks.sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '1' } });
    mocks.sqs
      .on(PurgeQueueCommand)
      .rejects(serviceError('PurgeQueueInProgress', 'Only one PurgeQueue operation'));

    // Act
    const result = await run(['dlq', 'purge', 'default', '--yes']);

    // Assess
    expect(result.code).toBe(EXIT.failure);
    expect(result.stderr).toMatch(/one PurgeQueue per queue every 60 seconds/);
  });

  it('exits 3 when a queue named by the outputs does not exist', async () => {
    // Prepare
    mocks.sqs
      .on(GetQueueAttributesCommand)
      .rejects(serviceError('QueueDoesNotExist', 'The specified queue does not exist.'));

    // Act
    const result = await run(['stats']);

    // Assess
    expect(result.code).toBe(EXIT.notFound);
  });

  it('classifies other service errors as AWS (5) and plain errors as failures (1)', () => {
    expect(toCliError(serviceError('ThrottlingException', 'slow down')).exitCode).toBe(EXIT.aws);
    expect(toCliError(serviceError('AccessDeniedException', 'no', 403)).message).toMatch(/^Access denied/);
    expect(toCliError(new Error('boom')).exitCode).toBe(EXIT.failure);
    expect(toCliError(Object.assign(new Error('Region is missing'), { name: 'Error' })).exitCode).toBe(
      EXIT.aws,
    );
    const nested = new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })], 'agg');
    expect(
      toCliError(Object.assign(new Error('wrapped'), { cause: nested }), { region: 'eu-west-1' }).message,
    ).toBe('Cannot reach AWS in eu-west-1 (ECONNREFUSED)');
  });

  it('uses the stack from SQS_JOBS_STACK when --stack is not given', async () => {
    // Prepare
    mocks.ddb.on(GetItemCommand).resolves({});
    const { main } = await import('../../../cli/main');
    let stderr = '';

    // Act
    await main(['status', 'j'], {
      stdout: () => undefined,
      stderr: (t) => {
        stderr += t;
      },
      env: { SQS_JOBS_STACK: 'FromEnv' },
      files: NO_FILES,
    });

    // Assess
    expect(mocks.cfn.commandCalls(DescribeStacksCommand)[0].args[0].input).toEqual({ StackName: 'FromEnv' });
    expect(stderr).toMatch(new RegExp(CONFIG.tableName));
  });

  it('uses the example stack, DEFAULT_STACK_NAME, without --stack or SQS_JOBS_STACK', async () => {
    // Prepare
    mocks.ddb.on(GetItemCommand).resolves({});
    const { main } = await import('../../../cli/main');

    // Act
    await main(['status', 'j'], {
      stdout: () => undefined,
      stderr: () => undefined,
      env: {},
      files: NO_FILES,
    });

    // Assess
    expect(mocks.cfn.commandCalls(DescribeStacksCommand)[0].args[0].input).toEqual({
      StackName: DEFAULT_STACK_NAME,
    });
  });
});

describe('finding the config output', () => {
  beforeEach(resetMocks);

  it('falls back to the one output holding a JobQueue config when descriptions are missing (LocalStack)', async () => {
    // Prepare
    mocks.cfn.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'S',
          CreationTime: new Date(),
          StackStatus: 'CREATE_COMPLETE',
          Outputs: [
            { OutputKey: 'Other', OutputValue: '{"a":1}' },
            { OutputKey: 'JobsConfigB1F64BB8', OutputValue: JSON.stringify(CONFIG) },
          ],
        },
      ],
    });
    mocks.ddb.on(GetItemCommand).resolves({});

    // Act
    const result = await run(['status', 'j1']);

    // Assess: it got as far as the ledger table named in the config.
    expect(result.code).toBe(EXIT.notFound);
    expect(result.stderr).toMatch(/No ledger record for job 'j1' in table ledger/);
  });
});

describe('finding the stack (locateStack) from main', () => {
  beforeEach(resetMocks);

  const NOW = Date.parse('2026-03-01T12:00:00Z');
  const STATE = '/x/.local/local-stack.json';
  const recorded = (
    text = JSON.stringify({
      endpoint: 'http://127.0.0.1:4599',
      region: 'eu-west-1',
      stackName: 'SqsJobsExample',
      deployedAt: '2026-03-01T11:00:00.000Z',
    }),
  ) => ({
    env: { SQS_JOBS_LOCAL_STATE: STATE },
    files: someFiles({ [STATE]: text }),
  });

  it('says, when no region is configured, which endpoint it used and everything it tried', async () => {
    // Prepare
    mocks.cfn.on(DescribeStacksCommand).rejects(new Error('Region is missing'));

    // Act
    const result = await run(['stats'], NOW, { cwd: '/somewhere' });

    // Assess
    expect(result.code).toBe(EXIT.aws);
    expect(result.stderr).toMatch(
      /No AWS region configured \(endpoint: AWS's own for the region; region: none given\)/,
    );
    expect(result.stderr).toContain(
      'tried: flags (none); AWS environment (AWS_ENDPOINT_URL, AWS_REGION, AWS_DEFAULT_REGION, AWS_PROFILE, AWS_ACCESS_KEY_ID unset; no ~/.aws/config or ~/.aws/credentials); local stack state (.local/local-stack.json not found in /somewhere and above, or ',
    );
    expect(result.stderr).toMatch(/— run npm start, or pass --local, or set AWS_REGION\n$/);
  });

  it('does not tell a user whose AWS is configured to set AWS_REGION', async () => {
    // Prepare
    mocks.cfn
      .on(DescribeStacksCommand)
      .rejects(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }));

    // Act
    const result = await run(['stats'], NOW, { cwd: '/somewhere', env: { AWS_REGION: 'eu-central-1' } });

    // Assess
    expect(result.code).toBe(EXIT.aws);
    expect(result.stderr).toMatch(/— for the local stack npm start deployed, pass --local\n$/);
    expect(result.stderr).not.toContain('set AWS_REGION');
  });

  it('uses the recorded local stack with test credentials, saying so on stderr', async () => {
    // Prepare
    mocks.ddb.on(GetItemCommand).resolves({});

    // Act
    const result = await run(['status', 'j1'], NOW, recorded());

    // Assess: it read the stack there and went on to the ledger.
    expect(result.code).toBe(EXIT.notFound);
    expect(result.stderr.split('\n')[0]).toBe(
      'sqs-jobs: using the local stack from npm start at http://127.0.0.1:4599; pass --local to be explicit, or set AWS_REGION to use AWS',
    );
    expect(result.stderr).toMatch(/No ledger record for job 'j1'/);
    const client = mocks.cfn.send.getCall(0).thisValue as CloudFormationClient;
    expect(await client.config.credentials()).toMatchObject({ accessKeyId: 'test', secretAccessKey: 'test' });
    expect(await client.config.region()).toBe('eu-west-1');
    expect(await client.config.endpoint?.()).toMatchObject({ hostname: '127.0.0.1', port: 4599 });
  });

  it('keeps stderr to the JSON error with --json (no notice line)', async () => {
    // Prepare
    mocks.ddb.on(GetItemCommand).resolves({});

    // Act
    const result = await run(['status', 'j1', '--json'], NOW, recorded());

    // Assess
    expect(result.code).toBe(EXIT.notFound);
    expect(JSON.parse(result.stderr).error.message).toMatch(/No ledger record for job 'j1'/);
  });

  it('names the recorded endpoint and region when LocalStack is not running', async () => {
    // Prepare
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4599'), { code: 'ECONNREFUSED' });
    mocks.cfn.on(DescribeStacksCommand).rejects(refused);

    // Act
    const result = await run(['stats', '--local'], NOW, recorded());

    // Assess
    expect(result.code).toBe(EXIT.aws);
    expect(result.stderr).toContain(
      `Cannot reach the AWS endpoint http://127.0.0.1:4599 (ECONNREFUSED; endpoint from recorded local stack state (${STATE}), region eu-west-1 from recorded local stack state (${STATE}))`,
    );
    expect(result.stderr).toMatch(/hint: Is LocalStack running at http:\/\/127.0.0.1:4599\? npm start/);
    expect(result.stderr).toContain(`tried: flags (--local); AWS environment (`);
  });

  it('exits 2 naming a malformed record file, before any AWS call', async () => {
    // Act
    const result = await run(['stats'], NOW, recorded('{"endpoint": 1}'));

    // Assess
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(
      /The local stack state \/x\/.local\/local-stack.json is not valid: "endpoint"/,
    );
    expect(mocks.cfn.commandCalls(DescribeStacksCommand)).toHaveLength(0);
  });
});
