import { describe, expect, it } from 'vitest';
import { EXIT } from '../../../cli/errors';
import { parse } from '../../../cli/main';
import { run } from './support/harness';

describe('argument parsing', () => {
  it('finds one-word and two-word commands with their positionals and flags', () => {
    // Act
    const status = parse(['status', 'job-1', '--json', '--stack', 'S']);
    const retry = parse(['--stack', 'S', 'dlq', 'retry', 'default', 'job-1']);

    // Assess
    expect(status).toMatchObject({ kind: 'run', args: ['job-1'], values: { json: true, stack: 'S' } });
    expect(status.kind === 'run' && status.command.name).toBe('status');
    expect(retry).toMatchObject({ kind: 'run', args: ['default', 'job-1'], values: { stack: 'S' } });
    expect(retry.kind === 'run' && retry.command.name).toBe('dlq retry');
  });

  it('reads command flags with values, including JSON payloads and short flags', () => {
    // Act
    const parsed = parse([
      'enqueue',
      'send-email',
      '-p',
      '{"to":"a@b.c"}',
      '--delay',
      '30',
      '--lane',
      'high',
    ]);

    // Assess
    expect(parsed).toMatchObject({
      kind: 'run',
      args: ['send-email'],
      values: { payload: '{"to":"a@b.c"}', delay: '30', lane: 'high' },
    });
  });

  it.each([
    [['--help'], /Usage: sqs-jobs <command>/],
    [['help'], /Commands:/],
    [['status', '--help'], /Usage: sqs-jobs status <jobId>/],
    [['help', 'dlq', 'redrive'], /--rate <n>/],
    [['dlq', '--help'], /sqs-jobs dlq <subcommand>/],
    [['dlq', 'purge', '-h'], /--yes/],
    [['--help'], /Finding the stack \(first that applies\):\n {2}1\. AWS as configured/],
    [['stats', '--help'], /--local +The local stack npm start deployed/],
  ])('prints help for %j with exit 0', async (argv, pattern) => {
    // Act
    const result = await run(argv);

    // Assess
    expect(result.code).toBe(EXIT.ok);
    expect(result.stdout).toMatch(pattern);
    expect(result.stdout).toMatch(/Exit codes:/);
  });

  it.each([
    [[], /No command given/],
    [['frobnicate'], /Unknown command 'frobnicate'/],
    [['dlq', 'frob'], /Unknown command 'dlq frob'/],
    [['status'], /'status' needs <jobId>/],
    [['dlq', 'retry', 'default'], /'dlq retry' needs <jobId>/],
    [['status', 'a', 'b'], /Unexpected argument 'b'/],
    [['stats', '--bogus'], /Unknown option '--bogus'/],
    [['status', 'x', '--rate', '3'], /Unknown option '--rate'/],
    [['enqueue', 't', '--payload'], /--payload/],
  ])('rejects %j with exit 2 and a message on stderr', async (argv, pattern) => {
    // Act
    const result = await run(argv);

    // Assess
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(pattern);
    expect(result.stdout).toBe('');
  });

  it('prints the group help on stderr with exit 2 when the subcommand is missing', async () => {
    // Act
    const result = await run(['dlq']);

    // Assess
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/dlq list <lane>/);
  });

  it('reports usage errors as JSON on stderr with --json', async () => {
    // Act
    const result = await run(['nope', '--json']);

    // Assess
    expect(result.code).toBe(EXIT.usage);
    expect(JSON.parse(result.stderr)).toMatchObject({ error: { type: 'UsageError', exitCode: 2 } });
  });

  it('prints the version', async () => {
    // Act
    const result = await run(['--version']);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
