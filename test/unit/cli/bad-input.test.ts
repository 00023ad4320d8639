/**
 * Bad flag values and arguments: each exits with its documented code, names the flag, the allowed
 * values and the value given, and sends nothing (usage and validation errors come before any call).
 */
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../../cli/errors';
import { main } from '../../../cli/main';
import { mocks, NO_FILES, resetMocks, run } from './support/harness';

beforeEach(resetMocks);

function callCounts(): Record<string, number> {
  return Object.fromEntries(Object.entries(mocks).map(([name, mock]) => [name, mock.calls().length]));
}

const NO_CALLS = { cfn: 0, sqs: 0, ddb: 0, scheduler: 0, cloudwatch: 0 };

// biome-ignore format: a table reads better one row per line
const usageCases: [argv: string[], patterns: RegExp[]][] = [
  // global flags
  [['stats', '--endpoint-url', 'notaurl'], [/--endpoint-url must be an http\(s\) URL; got 'notaurl'/]],
  [['stats', '--endpoint-url', 'localhost:4566'], [/--endpoint-url must be an http\(s\) URL; got 'localhost:4566'/]],
  [['stats', '--endpoint-url', 'ftp://127.0.0.1'], [/--endpoint-url must be an http\(s\) URL; got 'ftp:\/\/127.0.0.1'/]],
  [['stats', '--endpoint-url='], [/--endpoint-url must be an http\(s\) URL; got ''/]],
  [['stats', '--region', 'us_east_1'], [/--region must be an AWS region name such as us-east-1/, /got 'us_east_1'/]],
  [['stats', '--region', 'US-EAST-1'], [/--region must be an AWS region name/, /got 'US-EAST-1'/]],
  [['stats', '--region='], [/--region must be an AWS region name/, /got ''/]],
  [['stats', '--profile', ' '], [/--profile must be a profile name/, /got ' '/]],
  [['stats', '--stack', ''], [/--stack must be a stack name \(a letter, then letters, digits or hyphens; at most 128\) or a stack ARN; got ''/]],
  [['stats', '-s', 'my_stack'], [/--stack must be a stack name/, /got 'my_stack'/]],
  [['stats', '--stack', 'S'.repeat(129)], [/--stack must be a stack name/, /129 characters/]],
  [['stats', '--json=yes'], [/--json' does not take an argument/]],
  // values that start with a dash, or are missing
  [['enqueue', 'flaky-task', '--delay', '-5'], [/--delay must be a whole number of seconds from 0 to 31536000; got '-5'/]],
  [['enqueue', 'flaky-task', '--delay=-5'], [/--delay must be a whole number of seconds from 0 to 31536000; got '-5'/]],
  [['enqueue', 'flaky-task', '--delay', '-0.5'], [/--delay must be a whole number of seconds/, /got '-0.5'/]],
  [['enqueue', 'flaky-task', '--delay', '--json'], [/--delay needs a value <seconds>; got the option '--json'/, /Give --delay its value: --delay <seconds>/]],
  [['enqueue', 'flaky-task', '--delay'], [/--delay needs a value <seconds>; got nothing/]],
  [['enqueue', 'flaky-task', '--key', '-abc'], [/--key needs a value <key>; got the option '-abc'/, /--key=-abc/]],
  [['enqueue', 'flaky-task', '-p'], [/--payload needs a value <json\|@file>; got nothing/]],
  // enqueue flags
  [['enqueue', 'flaky-task', '--delay', 'soon'], [/--delay must be a whole number of seconds from 0 to 31536000; got 'soon'/]],
  [['enqueue', 'flaky-task', '--delay', '1.5'], [/--delay must be a whole number/, /got '1.5'/]],
  [['enqueue', 'flaky-task', '--delay', '1e3'], [/--delay must be a whole number/, /got '1e3'/]],
  [['enqueue', 'flaky-task', '--delay', '31536001'], [/--delay must be a whole number of seconds from 0 to 31536000; got '31536001'/]],
  [['enqueue', 'flaky-task', '--delay='], [/--delay must be a whole number/, /got ''/]],
  [['enqueue', 'flaky-task', '--key', ''], [/--key must be a string of 1-512 characters, not only whitespace; got ''/]],
  [['enqueue', 'flaky-task', '--key', '   '], [/--key must be a string of 1-512 characters/, /got ' {3}'/]],
  [['enqueue', 'flaky-task', '--key', 'k'.repeat(513)], [/--key must be a string of 1-512 characters/, /513 characters/]],
  [['enqueue', 'flaky-task', '--lane', ''], [/--lane must be a non-empty lane name; got ''/]],
  [['enqueue', 'flaky-task', '--group', 'a b'], [/--group must be a string of 1-128 characters/, /no spaces/, /got 'a b'/]],
  [['enqueue', 'flaky-task', '--group', 'g'.repeat(129)], [/--group must be a string of 1-128 characters/, /129 characters/]],
  [['enqueue', 'flaky-task', '--correlation-id', ''], [/--correlation-id must be a non-empty string of at most 256 characters; got ''/]],
  [['enqueue', 'flaky-task', '--correlation-id', 'c'.repeat(257)], [/--correlation-id must be a non-empty string of at most 256/, /257 characters/]],
  [['enqueue', 'flaky-task', '--payload', '@'], [/Cannot read payload file/]],
  [['enqueue', 'flaky-task', '--registry', 'nope.ts'], [/Registry module not found: .*nope\.ts/]],
  // other commands' flags and arguments
  [['top', '--interval', '0'], [/--interval must be a number of seconds from 0.1 to 3600; got '0'/]],
  [['top', '--interval', '1e12'], [/--interval must be a number of seconds from 0.1 to 3600; got '1e12'/]],
  [['top', '--interval', '-1'], [/--interval must be a number of seconds from 0.1 to 3600; got '-1'/]],
  [['top', '--interval', 'Infinity'], [/--interval must be a number/, /got 'Infinity'/]],
  [['top', '--iterations', '1.5'], [/--iterations must be a whole number from 0 to 1000000; got '1.5'/]],
  [['top', '--iterations', '-3'], [/--iterations must be a whole number from 0 to 1000000; got '-3'/]],
  [['dlq', 'list', 'default', '--limit', '0'], [/--limit must be a whole number from 1 to 10000; got '0'/]],
  [['dlq', 'list', 'default', '--limit', '-1'], [/--limit must be a whole number from 1 to 10000; got '-1'/]],
  [['dlq', 'list', 'default', '--limit', '99999999999999999999'], [/--limit must be a whole number from 1 to 10000; got '99999999999999999999'/]],
  [['dlq', 'list', 'default', '--limit', 'ten'], [/--limit must be a whole number from 1 to 10000; got 'ten'/]],
  [['dlq', 'redrive', 'default', '--rate', '0'], [/--rate must be a whole number of messages per second from 1 to 500; got '0'/]],
  [['dlq', 'redrive', 'default', '--rate', '-10'], [/--rate must be a whole number of messages per second from 1 to 500; got '-10'/]],
  [['dlq', 'redrive', 'default', '--rate', '501'], [/--rate must be a whole number of messages per second from 1 to 500; got '501'/]],
  [['dlq', 'purge', 'default'], [/Refusing to purge the default DLQ without --yes/]],
  [['dlq', 'purge', 'default', '--yes=no'], [/--yes' does not take an argument/]],
  [['status', ''], [/<jobId> must be a job id or message id of 1-512 characters; got ''/]],
  [['status', 'j'.repeat(513)], [/<jobId> must be a job id or message id of 1-512 characters/, /513 characters/]],
  [['dlq', 'retry', 'default', ' '], [/<jobId> must be a job id or message id of 1-512 characters; got ' '/]],
  [['dlq', 'delete', 'default', ''], [/<jobId> must be a job id or message id of 1-512 characters; got ''/]],
];

describe('bad flag values', () => {
  it.each(usageCases)(
    '%j exits 2 naming the flag, the allowed values and the value given; nothing is sent',
    async (argv, patterns) => {
      // Act
      const result = await run(argv);

      // Assess
      expect(result.code).toBe(EXIT.usage);
      for (const pattern of patterns) expect(result.stderr).toMatch(pattern);
      expect(result.stdout).toBe('');
      expect(callCounts()).toEqual(NO_CALLS);
    },
  );

  it('reports the same usage error as JSON with --json', async () => {
    // Act
    const result = await run(['enqueue', 'flaky-task', '--delay', '-5', '--json']);

    // Assess
    expect(result.code).toBe(EXIT.usage);
    expect(JSON.parse(result.stderr).error).toMatchObject({
      type: 'UsageError',
      exitCode: 2,
      message: "--delay must be a whole number of seconds from 0 to 31536000; got '-5'",
    });
    expect(callCounts()).toEqual(NO_CALLS);
  });

  it.each([
    ['AWS_ENDPOINT_URL', 'notaurl', /AWS_ENDPOINT_URL must be an http\(s\) URL; got 'notaurl'/],
    ['AWS_REGION', 'Frankfurt', /AWS_REGION must be an AWS region name/],
    ['SQS_JOBS_STACK', 'my stack', /SQS_JOBS_STACK must be a stack name/],
  ])(
    'names the environment variable %s when its value is bad, and sends nothing',
    async (name, value, pattern) => {
      // Act
      let stderr = '';
      const code = await main(['stats'], {
        stdout: () => undefined,
        stderr: (t) => {
          stderr += t;
        },
        env: { [name]: value },
        files: NO_FILES,
        sleep: async () => undefined,
      });

      // Assess
      expect(code).toBe(EXIT.usage);
      expect(stderr).toMatch(pattern);
      expect(callCounts()).toEqual(NO_CALLS);
    },
  );

  it('lets a flag win over a bad variable, and accepts a stack ARN and LocalStack settings', async () => {
    // Act
    const code = await main(
      [
        'stats',
        '--endpoint-url',
        'http://127.0.0.1:4566',
        '--region',
        'us-gov-west-1',
        '--stack',
        'arn:aws:cloudformation:us-east-1:123456789012:stack/SqsJobsExample/0b6f1c2e-aaaa-bbbb-cccc-0123456789ab',
      ],
      {
        stdout: () => undefined,
        stderr: () => undefined,
        env: { AWS_ENDPOINT_URL: 'notaurl' },
        files: NO_FILES,
        sleep: async () => undefined,
      },
    );

    // Assess: it went on to read the stack (the mocked answer has no queue attributes: exit 1 there)
    expect(code).not.toBe(EXIT.usage);
    expect(mocks.cfn.commandCalls(DescribeStacksCommand)).toHaveLength(1);
  });
});

describe('bad values only the stack can judge', () => {
  it.each([
    [
      ['enqueue', 'flaky-task', '--lane', '__proto__'],
      /Unknown lane '__proto__'; configured lanes: high, default, ordered/,
    ],
    [['enqueue', 'flaky-task', '--lane', 'constructor'], /Unknown lane 'constructor'/],
    [
      ['dlq', 'list', '__proto__'],
      /Unknown lane '__proto__'; stack 'SqsJobsExample' has lanes: high, default, ordered/,
    ],
    [['dlq', 'purge', 'toString', '--yes'], /Unknown lane 'toString'/],
  ])('%j exits 3 after reading the stack, and sends nothing else', async (argv, pattern) => {
    // Act
    const result = await run(argv);

    // Assess
    expect(result.code).toBe(EXIT.notFound);
    expect(result.stderr).toMatch(pattern);
    expect(callCounts()).toEqual({ ...NO_CALLS, cfn: 1 });
  });

  it('refuses a FIFO lane without --group, naming the flag (exit 2 once the stack says the lane is FIFO)', async () => {
    // Act
    const result = await run(['enqueue', 'ledger-entry', '--payload', '{"account":"a","seq":1}']);

    // Assess
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(
      /--group must be set \(or a tenant, which then is the group\): lane 'ordered' is FIFO; got nothing/,
    );
    expect(callCounts()).toEqual({ ...NO_CALLS, cfn: 1 });
  });
});

describe('an oversize payload', () => {
  const big = JSON.stringify({ pad: 'x'.repeat(300_000) });
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4599'), { code: 'ECONNREFUSED' });

  it.each([
    ['answers', false],
    ['does not answer', true],
  ])('exits 4 before any call whether or not the endpoint %s', async (_label, unreachable) => {
    // Prepare
    if (unreachable) mocks.cfn.on(DescribeStacksCommand).rejects(refused);

    // Act
    const result = await run([
      'enqueue',
      'flaky-task',
      '--payload',
      big,
      '--endpoint-url',
      'http://127.0.0.1:4599',
      '--json',
    ]);

    // Assess
    expect(result.code).toBe(EXIT.validation);
    expect(JSON.parse(result.stderr).error).toMatchObject({ type: 'ValidationError', exitCode: 4 });
    expect(result.stderr).toMatch(/Message is 300\d\d\d bytes .*over the limit of 262144 bytes/);
    expect(callCounts()).toEqual(NO_CALLS);
  });

  it('exits 4 before any call when a delay over 900 s makes it a schedule over 8 KiB', async () => {
    // Act
    const result = await run([
      'enqueue',
      'flaky-task',
      '--payload',
      JSON.stringify({ pad: 'x'.repeat(9000) }),
      '--delay',
      '3600',
    ]);

    // Assess
    expect(result.code).toBe(EXIT.validation);
    expect(result.stderr).toMatch(
      /over the limit of 8192 bytes for a job delayed through EventBridge Scheduler/,
    );
    expect(callCounts()).toEqual(NO_CALLS);
  });

  it('is also refused by --dry-run', async () => {
    // Act
    const result = await run(['enqueue', 'flaky-task', '--payload', big, '--dry-run']);

    // Assess
    expect(result.code).toBe(EXIT.validation);
    expect(result.stdout).toBe('');
    expect(callCounts()).toEqual(NO_CALLS);
  });
});
