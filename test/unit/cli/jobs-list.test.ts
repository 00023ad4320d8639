/** `jobs list` (the search index) and the history lines of `status`, with the SDK clients mocked. */
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  type AttributeValue,
  GetItemCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../../cli/errors';
import { CONFIG_OUTPUT_DESCRIPTION, SEARCH_INDEX } from '../../../lambdas/shared/contract';
import { DEFAULT_STACK_NAME } from '../../../lambdas/shared/defaults';
import { CONFIG, mocks, resetMocks, run } from './support/harness';

const NOW = Date.parse('2026-03-01T12:00:00Z');

/** DescribeStacks answers with a config that has the search index. */
function withSearchIndex(): void {
  mocks.cfn.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: DEFAULT_STACK_NAME,
        CreationTime: new Date(),
        StackStatus: 'CREATE_COMPLETE',
        Outputs: [
          {
            OutputKey: 'JobsConfig',
            OutputValue: JSON.stringify({ ...CONFIG, searchIndex: SEARCH_INDEX.name }),
            Description: CONFIG_OUTPUT_DESCRIPTION,
          },
        ],
      },
    ],
  });
}

function indexItem(
  jobId: string,
  status: string,
  shard: number,
  at: string,
  type = 'resize',
): Record<string, AttributeValue> {
  return {
    jobId: { S: jobId },
    statusKey: { S: `${status}#${shard}` },
    statusAt: { S: at },
    status: { S: status },
    type: { S: type },
    lane: { S: 'high' },
    attempts: { N: '3' },
  };
}

/** Three DEAD jobs in shards 0 and 1, newest first; every other partition is empty. */
const DEAD_ITEMS: Record<string, Record<string, AttributeValue>[]> = {
  'DEAD#0': [
    indexItem('j-1', 'DEAD', 0, '2026-03-01T11:50:00.000Z'),
    indexItem('j-3', 'DEAD', 0, '2026-03-01T11:30:00.000Z'),
  ],
  'DEAD#1': [indexItem('j-2', 'DEAD', 1, '2026-03-01T11:40:00.000Z')],
};

/** Answers like the index: a partition's items after ExclusiveStartKey (older ones). */
function answerQueries(): void {
  mocks.ddb.on(QueryCommand).callsFake((input: QueryCommandInput) => {
    const items = DEAD_ITEMS[input.ExpressionAttributeValues?.[':pk']?.S ?? ''] ?? [];
    const after = input.ExclusiveStartKey?.statusAt?.S;
    return { Items: items.filter((item) => after === undefined || (item.statusAt.S ?? '') < after) };
  });
}

const queries = () => mocks.ddb.commandCalls(QueryCommand).map((c) => c.args[0].input);

beforeEach(() => {
  resetMocks();
  withSearchIndex();
  answerQueries();
});

describe('jobs list', () => {
  it('prints a table newest first and the cursor of the next page, from the filters given', async () => {
    // Act
    const result = await run(
      [
        'jobs',
        'list',
        '--status',
        'dead,FAILED',
        '--type',
        'resize',
        '--lane',
        'high',
        '--since',
        '1h',
        '--limit',
        '2',
      ],
      NOW,
    );

    // Assess
    expect(result.code, result.stderr).toBe(EXIT.ok);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+TYPE\s+LANE\s+ATTEMPTS\s+STATUS AT$/);
    expect(lines[1]).toMatch(/^j-1\s+DEAD\s+resize\s+high\s+3\s+2026-03-01T11:50:00.000Z$/);
    expect(lines[2]).toMatch(/^j-2\s+DEAD/);
    expect(lines[3]).toMatch(/^Next page: --cursor [A-Za-z0-9_-]+$/);
    const pks = queries().map((q) => q.ExpressionAttributeValues?.[':pk']?.S);
    expect(new Set(pks)).toEqual(
      new Set([
        ...Array.from({ length: 8 }, (_, n) => `DEAD#${n}`),
        ...Array.from({ length: 8 }, (_, n) => `FAILED#${n}`),
      ]),
    );
    expect(queries()[0]).toMatchObject({
      IndexName: SEARCH_INDEX.name,
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :since AND :until',
      FilterExpression: '#type = :type AND #lane = :lane',
    });
    expect(queries()[0].ExpressionAttributeValues?.[':since']).toEqual({ S: '2026-03-01T11:00:00.000Z' });
  });

  it('continues with --cursor: the next page, a relative --since kept from the first page', async () => {
    // Prepare: the first page at NOW
    const first = await run(
      ['jobs', 'list', '--status', 'DEAD', '--since', '1h', '--limit', '2', '--json'],
      NOW,
    );
    const { cursor } = JSON.parse(first.stdout);

    // Act: a minute later, the same flags and the cursor
    const next = await run(
      ['jobs', 'list', '--status', 'DEAD', '--since', '1h', '--limit', '2', '--cursor', cursor, '--json'],
      NOW + 60_000,
    );

    // Assess
    expect(next.code, next.stderr).toBe(EXIT.ok);
    expect(JSON.parse(next.stdout)).toEqual({
      jobs: [
        {
          jobId: 'j-3',
          status: 'DEAD',
          statusAt: '2026-03-01T11:30:00.000Z',
          type: 'resize',
          lane: 'high',
          attempts: 3,
        },
      ],
    });
    const resumed = queries().filter((q) => q.ExclusiveStartKey !== undefined);
    expect(resumed.map((q) => q.ExclusiveStartKey)).toEqual([
      { jobId: { S: 'j-1' }, statusKey: { S: 'DEAD#0' }, statusAt: { S: '2026-03-01T11:50:00.000Z' } },
    ]);
  });

  it('prints JSON { jobs, cursor } with --json', async () => {
    // Act
    const result = await run(['jobs', 'list', '--limit', '1', '--json'], NOW);

    // Assess
    expect(result.code).toBe(EXIT.ok);
    const out = JSON.parse(result.stdout);
    expect(out.jobs.map((j: { jobId: string }) => j.jobId)).toEqual(['j-1']);
    expect(typeof out.cursor).toBe('string');
  });

  it.each([
    [
      ['--since', '1 hour'],
      /--since must be a duration back from now \(30s, 30m, 1h, 2d\) or an ISO-8601 time.*; got '1 hour'/,
    ],
    [['--until', '2026-13-45'], /--until must be a duration back from now .*; got '2026-13-45'/],
    [['--since', '999999d'], /--since must be .*at most 400 days back; got '999999d'/],
    [
      ['--status', 'DEAD,DONE'],
      /--status must be one or more of ENQUEUED, RUNNING, SUCCEEDED, FAILED, DEAD, CANCELLED.*; got 'DEAD,DONE'/,
    ],
    [['--limit', '0'], /--limit must be a whole number from 1 to 1000; got '0'/],
    [
      ['--since', '1h', '--until', '2h'],
      /--since must be at or before --until \(2026-03-01T10:00:00.000Z\); got '1h'/,
    ],
    [['--type', ' '], /--type must be not empty/],
  ])('refuses %j as a usage error before any AWS call', async (flags, message) => {
    // Act
    const result = await run(['jobs', 'list', ...flags], NOW);

    // Assess
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(message);
    expect(queries()).toHaveLength(0);
  });

  it('refuses the cursor of another listing as a bad --cursor', async () => {
    // Prepare
    const first = await run(['jobs', 'list', '--status', 'DEAD', '--limit', '1', '--json'], NOW);
    const { cursor } = JSON.parse(first.stdout);

    // Act
    const result = await run(['jobs', 'list', '--status', 'FAILED', '--cursor', cursor], NOW);

    // Assess
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/--cursor must be the cursor a listing with the same filters printed/);
    expect(result.stderr).toMatch(/it was made for status DEAD/);
  });

  it('tells to turn jobSearch on when the stack has no index (exit 3)', async () => {
    // Prepare
    resetMocks();

    // Act
    const result = await run(['jobs', 'list'], NOW);

    // Assess
    expect(result.code).toBe(EXIT.notFound);
    expect(result.stderr).toMatch(/has no job search index/);
    expect(result.stderr).toMatch(/jobSearch: true/);
  });

  it('is listed in the help', async () => {
    const help = await run(['--help']);
    expect(help.stdout).toMatch(/jobs list\s+List jobs by status/);
    const group = await run(['jobs', '--help']);
    expect(group.stdout).toMatch(/jobs list/);
  });
});

describe('status: history and group', () => {
  it('prints the history lines with attempts, and the group', async () => {
    // Prepare
    mocks.ddb.on(GetItemCommand).resolves({
      Item: {
        jobId: { S: 'j1' },
        status: { S: 'SUCCEEDED' },
        attempts: { N: '2' },
        group: { S: 'g-1' },
        history: {
          L: [
            { S: 'E@1772362800000' },
            { S: 'R@1772362801000' },
            { S: 'F@1772362802000' },
            { S: 'R@1772362810000' },
            { S: 'S@1772362811000' },
          ],
        },
      },
    });

    // Act
    const text = await run(['status', 'j1']);
    const asJson = await run(['status', 'j1', '--json']);

    // Assess
    expect(text.code).toBe(EXIT.ok);
    expect(text.stdout).toMatch(/^group\s+g-1$/m);
    expect(text.stdout).toContain(
      [
        'history (last 5, oldest first)',
        '  2026-03-01T11:00:00.000Z  ENQUEUED',
        '  2026-03-01T11:00:01.000Z  RUNNING    attempt 1',
        '  2026-03-01T11:00:02.000Z  FAILED     attempt 1',
        '  2026-03-01T11:00:10.000Z  RUNNING    attempt 2',
        '  2026-03-01T11:00:11.000Z  SUCCEEDED  attempt 2',
      ].join('\n'),
    );
    expect(JSON.parse(asJson.stdout).history).toHaveLength(5);
  });
});
