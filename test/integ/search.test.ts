/**
 * Search and history end to end on LocalStack (the example stack has `jobSearch: true`): jobs of
 * two types run to SUCCEEDED and DEAD on two lanes, then are listed by status, type, lane and time
 * through the real client and the CLI, page by page. The index is eventually consistent: every
 * listing waits until it shows this run's jobs, then asserts on what it shows.
 *
 * LocalStack may hold jobs of earlier runs: assertions are about this run's ids (all present, in
 * order, never twice) and about every listed job matching the filters.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../cli/errors';
import { main } from '../../cli/main';
import type { JobSummary, ListJobsOptions } from '../../lambdas/client/types';
import { type DeployedStack, deployedStack } from '../../scripts/local/deployed-stack';
import { waitFor, waitForStatus } from './helpers';

let stack: DeployedStack;
/** Status changes of this run's jobs happen after this (a margin for clock differences). */
let since: Date;
const ids = { emails: [] as string[], dead: [] as string[], flakyOk: [] as string[] };

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main([...argv, '--stack', stack.stackName], {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    isTTY: false,
  });
  return { code, stdout, stderr };
}

/** Every page of a listing, in order. */
async function allPages(options: ListJobsOptions): Promise<JobSummary[][]> {
  const pages: JobSummary[][] = [];
  let cursor: string | undefined;
  do {
    const page = await stack.client.listJobs({ ...options, cursor });
    pages.push([...page.jobs]);
    cursor = page.cursor;
    expect(pages.length, 'a listing that never ends').toBeLessThan(500);
  } while (cursor !== undefined);
  return pages;
}

/** Waits until a listing (all pages) shows every one of `wanted`, and returns it. */
function listingWith(
  what: string,
  options: ListJobsOptions,
  wanted: readonly string[],
): Promise<JobSummary[]> {
  return waitFor(`the search index to list ${what}`, async () => {
    const jobs = (await allPages(options)).flat();
    const listed = new Set(jobs.map((j) => j.jobId));
    return wanted.every((id) => listed.has(id)) ? jobs : undefined;
  });
}

const isNewestFirst = (jobs: readonly JobSummary[]) =>
  jobs.every((job, i) => i === 0 || jobs[i - 1].statusAt >= job.statusAt);

beforeAll(async () => {
  stack = await deployedStack();
  expect(stack.config.searchIndex, 'the example stack turns jobSearch on').toBe('byStatus');
  since = new Date(Date.now() - 5_000);
  const run = Date.now().toString(36);
  for (let i = 0; i < 3; i++) {
    ids.emails.push(
      (await stack.client.enqueue('send-email', { to: `u${i}-${run}@example.com`, subject: 'hi' })).jobId,
    );
    ids.dead.push((await stack.client.enqueue('flaky-task', { permanent: true })).jobId);
  }
  for (let i = 0; i < 2; i++) ids.flakyOk.push((await stack.client.enqueue('flaky-task', {})).jobId);
  await Promise.all([
    ...ids.emails.map((id) => waitForStatus(stack, id, ['SUCCEEDED'])),
    ...ids.flakyOk.map((id) => waitForStatus(stack, id, ['SUCCEEDED'])),
    ...ids.dead.map((id) => waitForStatus(stack, id, ['DEAD'])),
  ]);
});

describe('listJobs on the deployed stack', () => {
  it('lists DEAD jobs of a type since the run started, newest first', async () => {
    const jobs = await listingWith(
      'the dead flaky tasks',
      { status: 'DEAD', type: 'flaky-task', since },
      ids.dead,
    );

    expect(jobs.every((j) => j.status === 'DEAD' && j.type === 'flaky-task')).toBe(true);
    expect(jobs.every((j) => j.statusAt >= since.toISOString())).toBe(true);
    expect(isNewestFirst(jobs)).toBe(true);
    expect(jobs.find((j) => j.jobId === ids.dead[0])).toMatchObject({ lane: 'default', attempts: 1 });
  });

  it('filters by lane: the high lane lists the emails, not the flaky tasks', async () => {
    const jobs = await listingWith(
      'the sent emails',
      { status: 'SUCCEEDED', lane: 'high', since },
      ids.emails,
    );

    expect(jobs.every((j) => j.lane === 'high' && j.status === 'SUCCEEDED')).toBe(true);
    const listed = new Set(jobs.map((j) => j.jobId));
    expect(ids.flakyOk.filter((id) => listed.has(id))).toEqual([]);
  });

  it('pages through every status two at a time: each job once, newest first across pages', async () => {
    const everyone = [...ids.emails, ...ids.dead, ...ids.flakyOk];
    const pages = await waitFor('a paged listing with every job of this run', async () => {
      const got = await allPages({ status: ['SUCCEEDED', 'DEAD'], since, limit: 2 });
      const listed = new Set(got.flat().map((j) => j.jobId));
      return everyone.every((id) => listed.has(id)) ? got : undefined;
    });

    expect(pages.length).toBeGreaterThanOrEqual(4);
    expect(pages.slice(0, -1).every((p) => p.length === 2)).toBe(true);
    const jobs = pages.flat();
    expect(new Set(jobs.map((j) => j.jobId)).size).toBe(jobs.length);
    expect(isNewestFirst(jobs)).toBe(true);
  });

  it('until excludes what changed after it', async () => {
    await listingWith('the dead flaky tasks', { status: 'DEAD', since }, ids.dead);

    const before = await stack.client.listJobs({
      status: 'DEAD',
      since: new Date(since.getTime() - 60_000),
      until: since,
    });

    const listed = new Set(before.jobs.map((j) => j.jobId));
    expect(ids.dead.filter((id) => listed.has(id))).toEqual([]);
  });
});

describe('the CLI', () => {
  it('jobs list --json lists the dead jobs of a type on a lane; text mode prints the next cursor', async () => {
    const jobs = await waitFor('jobs list to show the dead flaky tasks', async () => {
      const result = await cli(
        'jobs',
        'list',
        '--status',
        'dead',
        '--type',
        'flaky-task',
        '--lane',
        'default',
        '--since',
        '10m',
        '--limit',
        '1000',
        '--json',
      );
      expect(result.code, result.stderr).toBe(EXIT.ok);
      const out = JSON.parse(result.stdout) as { jobs: JobSummary[] };
      const listed = new Set(out.jobs.map((j) => j.jobId));
      return ids.dead.every((id) => listed.has(id)) ? out.jobs : undefined;
    });
    expect(jobs.every((j) => j.status === 'DEAD' && j.type === 'flaky-task' && j.lane === 'default')).toBe(
      true,
    );

    const first = await cli(
      'jobs',
      'list',
      '--status',
      'DEAD',
      '--type',
      'flaky-task',
      '--since',
      '10m',
      '--limit',
      '1',
    );
    expect(first.code, first.stderr).toBe(EXIT.ok);
    expect(first.stdout).toMatch(/^ID\s+STATUS\s+TYPE\s+LANE\s+ATTEMPTS\s+STATUS AT$/m);
    const cursor = /^Next page: --cursor (\S+)$/m.exec(first.stdout)?.[1];
    expect(cursor, first.stdout).toBeDefined();
    const second = await cli(
      'jobs',
      'list',
      '--status',
      'DEAD',
      '--type',
      'flaky-task',
      '--since',
      '10m',
      '--limit',
      '1',
      '--cursor',
      cursor ?? '',
      '--json',
    );
    expect(second.code, second.stderr).toBe(EXIT.ok);
    const firstId = first.stdout.split('\n')[1].split(/\s+/)[0];
    const secondJobs = (JSON.parse(second.stdout) as { jobs: JobSummary[] }).jobs;
    expect(secondJobs).toHaveLength(1);
    expect(secondJobs[0].jobId).not.toBe(firstId);
  });

  it('status prints the history of a dead job: enqueued or running, then DEAD', async () => {
    const result = await cli('status', ids.dead[0]);

    expect(result.code, result.stderr).toBe(EXIT.ok);
    expect(result.stdout).toMatch(/^history \(last \d+, oldest first\)$/m);
    expect(result.stdout).toMatch(/^ {2}\S+Z {2}RUNNING +attempt 1$/m);
    expect(result.stdout).toMatch(/^ {2}\S+Z {2}DEAD +attempt 1$/m);
  });
});
