/** cancel, enqueue --tenant, and the job-control fields of status and stats, against mocked SDK clients. */
import * as path from 'node:path';
import { DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { ConditionalCheckFailedException, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DeleteScheduleCommand, ResourceNotFoundException } from '@aws-sdk/client-scheduler';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../../cli/errors';
import { rateState } from '../../../cli/limits';
import { limitItemId } from '../../../lambdas/ledger/limits';
import { jobIdForKey } from '../../../lambdas/shared/envelope';
import { readable } from '../lambdas/support/fixtures';
import { CONFIG, mocks, resetMocks, run } from './support/harness';

beforeEach(resetMocks);

const NOW = Date.parse('2026-03-01T12:00:00Z');
const LIMITS_REGISTRY = path.join(__dirname, 'support', 'limits-registry.ts');
const PLAIN_REGISTRY = path.join(__dirname, 'support', 'plain-registry.ts');

/** The ledger's answer when the cancel's condition fails: the item as it is. */
function ledgerHolds(item: Record<string, string>) {
  return new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    Item: Object.fromEntries(Object.entries(item).map(([k, v]) => [k, { S: v }])),
  });
}

describe('cancel', () => {
  it('cancels a queued job by id: CANCELLED in the ledger, its one-time schedule deleted, exit 0', async () => {
    // Prepare
    mocks.ddb.on(UpdateItemCommand).resolves({
      Attributes: { jobId: { S: 'j1' }, status: { S: 'ENQUEUED' }, attempts: { N: '0' } },
    });
    mocks.scheduler.on(DeleteScheduleCommand).resolves({});

    // Act
    const result = await run(['cancel', 'j1']);

    // Assess
    expect(result.code).toBe(EXIT.ok);
    expect(result.stdout).toBe(
      'Job j1 cancelled (was ENQUEUED): it will not run; its one-time schedule was deleted.\nstatus  CANCELLED\n',
    );
    const update = mocks.ddb.commandCalls(UpdateItemCommand)[0].args[0].input;
    expect(update).toMatchObject({ TableName: CONFIG.tableName, Key: { jobId: { S: 'j1' } } });
    expect(Object.values(update.ExpressionAttributeValues ?? {})).toContainEqual({ S: 'CANCELLED' });
    expect(mocks.scheduler.commandCalls(DeleteScheduleCommand)[0].args[0].input).toEqual({
      Name: 'job-j1',
      GroupName: CONFIG.scheduleGroup,
    });
  });

  it('cancels by --type and --key: the job id is jobIdForKey(type, key), and --json prints the CancelResult', async () => {
    // Prepare: no ledger item yet, no schedule holding it
    mocks.ddb.on(UpdateItemCommand).resolves({});
    mocks.scheduler.on(DeleteScheduleCommand).rejects(
      new ResourceNotFoundException({
        message: 'no such schedule',
        Message: 'no such schedule',
        $metadata: {},
      }),
    );
    const jobId = jobIdForKey('generate-report', 'report-42');

    // Act
    const result = await run(['cancel', '--type', 'generate-report', '--key', 'report-42', '--json']);

    // Assess
    expect(result.code).toBe(EXIT.ok);
    expect(JSON.parse(result.stdout)).toEqual({
      jobId,
      outcome: 'cancelled',
      status: 'CANCELLED',
      scheduleDeleted: false,
      message: `Job ${jobId} cancelled (not in the ledger yet): it will not run.`,
    });
    expect(mocks.ddb.commandCalls(UpdateItemCommand)[0].args[0].input.Key).toEqual({ jobId: { S: jobId } });
    expect(mocks.scheduler.commandCalls(DeleteScheduleCommand)[0].args[0].input.Name).toBe(
      `job-${jobId}`.slice(0, 64),
    );
  });

  it('asks a running job to stop (cancelling, exit 0) and deletes no schedule', async () => {
    // Prepare: RUNNING fails the cancel's condition; the cancel request is then written
    mocks.ddb.on(UpdateItemCommand).callsFake((input: { ConditionExpression?: string }) => {
      if (input.ConditionExpression?.includes('attribute_not_exists')) {
        throw ledgerHolds({ jobId: 'j2', status: 'RUNNING' });
      }
      return {};
    });

    // Act
    const text = await run(['cancel', 'j2']);
    const json = await run(['cancel', 'j2', '--json']);

    // Assess
    expect(text.code).toBe(EXIT.ok);
    expect(text.stdout).toMatch(/^Job j2 is running: asked to stop\. .*within one heartbeat/);
    expect(text.stdout).toMatch(/^status {2}RUNNING$/m);
    const requests = mocks.ddb.commandCalls(UpdateItemCommand).map((c) => readable(c.args[0].input));
    expect(requests[1].ConditionExpression).toBe('#status = :running');
    expect(requests[1].UpdateExpression).toMatch(/cancelRequestedAt/);
    expect(mocks.scheduler.commandCalls(DeleteScheduleCommand)).toHaveLength(0);
    expect(json.code).toBe(EXIT.ok);
    expect(JSON.parse(json.stdout)).toMatchObject({ outcome: 'cancelling', status: 'RUNNING' });
  });

  it('is a no-op that says so for a finished job (exit 0)', async () => {
    // Prepare
    mocks.ddb
      .on(UpdateItemCommand)
      .rejects(ledgerHolds({ jobId: 'j3', status: 'SUCCEEDED', finishedAt: '2026-03-01T11:00:00.000Z' }));

    // Act
    const text = await run(['cancel', 'j3']);
    const json = await run(['cancel', 'j3', '--json']);

    // Assess
    expect(text.code).toBe(EXIT.ok);
    expect(text.stdout).toBe(
      'Job j3 is already SUCCEEDED at 2026-03-01T11:00:00.000Z: nothing to cancel.\nstatus  SUCCEEDED\n',
    );
    expect(JSON.parse(json.stdout)).toMatchObject({
      outcome: 'already-finished',
      status: 'SUCCEEDED',
      previousStatus: 'SUCCEEDED',
      scheduleDeleted: false,
    });
    expect(mocks.scheduler.commandCalls(DeleteScheduleCommand)).toHaveLength(0);
  });

  it.each([
    [
      ['cancel'],
      /'cancel' needs <jobId>, or --type <type> with --key <key>\nhint: Usage: sqs-jobs cancel <jobId> {2}or {2}sqs-jobs cancel --type <type> --key <key>/,
    ],
    [
      ['cancel', 'j1', '--type', 'generate-report', '--key', 'k'],
      /'cancel' takes <jobId> or --type with --key, not both; got <jobId> 'j1', --type 'generate-report', --key 'k'/,
    ],
    [['cancel', 'j1', '--key', 'k'], /not both; got <jobId> 'j1', --key 'k'/],
    [['cancel', '--type', 'generate-report'], /--type needs --key <key>.*got --type 'generate-report' alone/],
    [['cancel', '--key', 'k'], /--key needs --type <type>.*got --key 'k' alone/],
    [['cancel', '--type', 'has space', '--key', 'k'], /--type must be a job type: .*; got 'has space'/],
    [['cancel', '--type', 't', '--key', ' '], /--key must be a string of 1-512 characters.*; got ' '/],
    [['cancel', 'j1', 'j2'], /Unexpected argument 'j2' for 'cancel'/],
    [
      ['cancel', '~rate#sync-crm'],
      /<jobId> must be a job id \(ids starting with '~' name rate and concurrency limiter items/,
    ],
  ])('refuses %j with exit 2 before any AWS call', async (argv, message) => {
    // Act
    const result = await run(argv);

    // Assess
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(message);
    expect(mocks.cfn.calls()).toHaveLength(0);
    expect(mocks.ddb.calls()).toHaveLength(0);
  });

  it('is listed after status in the help, with both forms', async () => {
    // Act
    const main = await run(['--help']);
    const own = await run(['cancel', '--help']);

    // Assess
    expect(main.stdout).toMatch(/ {2}status <jobId> +.*\n {2}cancel \[<jobId>\] +Cancel a job/);
    expect(own.code).toBe(EXIT.ok);
    expect(own.stdout).toMatch(/Usage: sqs-jobs cancel \[<jobId>\] \[options\]/);
    expect(own.stdout).toMatch(/--type <type>/);
    expect(own.stdout).toMatch(/--key <key>/);
    expect(own.stdout).toMatch(/grantCancel/);
  });
});

describe('enqueue --tenant', () => {
  it('sends the tenant as the MessageGroupId on a standard lane, and in the envelope', async () => {
    // Prepare
    mocks.sqs.on(SendMessageCommand).resolves({ MessageId: 'sent-1' });

    // Act
    const result = await run(['enqueue', 'flaky-task', '--tenant', 'acme']);

    // Assess
    expect(result.code).toBe(EXIT.ok);
    const send = mocks.sqs.commandCalls(SendMessageCommand)[0].args[0].input;
    expect(send.QueueUrl).toBe(CONFIG.lanes.default.queueUrl);
    expect(send.MessageGroupId).toBe('acme');
    expect(JSON.parse(send.MessageBody ?? '')).toMatchObject({ type: 'flaky-task', tenant: 'acme' });
  });

  it('refuses a bad tenant naming --tenant (exit 2), before any AWS call', async () => {
    // Act
    const result = await run(['enqueue', 'flaky-task', '--tenant', 'has space']);

    // Assess
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(
      /^sqs-jobs: --tenant must be a string of 1-128 characters: .*; got 'has space'$/m,
    );
    expect(mocks.cfn.calls()).toHaveLength(0);
    expect(mocks.sqs.calls()).toHaveLength(0);
  });

  it('is in the enqueue help', async () => {
    expect((await run(['enqueue', '--help'])).stdout).toMatch(/--tenant <tenant> +The job's tenant/);
  });
});

describe('status: job-control fields', () => {
  it('shows tenant, a pending cancel request of a running job and a debounce window, only when present', async () => {
    // Prepare
    mocks.ddb.on(GetItemCommand, { Key: { jobId: { S: 'j1' } } }).resolves({
      Item: {
        jobId: { S: 'j1' },
        status: { S: 'RUNNING' },
        attempts: { N: '1' },
        tenant: { S: 'acme' },
        cancelRequestedAt: { S: '2026-03-01T11:59:00.000Z' },
        debounceSeq: { N: '3' },
      },
    });
    mocks.ddb.on(GetItemCommand, { Key: { jobId: { S: 'j2' } } }).resolves({
      Item: { jobId: { S: 'j2' }, status: { S: 'CANCELLED' }, attempts: { N: '0' } },
    });
    mocks.ddb.on(GetItemCommand, { Key: { jobId: { S: 'j4' } } }).resolves({
      Item: {
        jobId: { S: 'j4' },
        status: { S: 'CANCELLED' },
        attempts: { N: '1' },
        cancelRequestedAt: { S: '2026-03-01T11:58:00.000Z' },
      },
    });
    mocks.ddb.on(GetItemCommand, { Key: { jobId: { S: 'j3' } } }).resolves({
      Item: {
        jobId: { S: 'j3' },
        status: { S: 'ENQUEUED' },
        attempts: { N: '0' },
        debounceSeq: { N: '3' },
        debounceFailed: { NS: ['3'] },
      },
    });

    // Act
    const running = await run(['status', 'j1']);
    const cancelled = await run(['status', 'j2']);
    const failedSend = await run(['status', 'j3']);
    const stopped = await run(['status', 'j4']);
    const json = await run(['status', 'j1', '--json']);

    // Assess
    expect(running.code).toBe(EXIT.ok);
    expect(running.stdout).toMatch(/^tenant\s+acme$/m);
    expect(running.stdout).toMatch(
      /^status\s+RUNNING \(cancel requested at 2026-03-01T11:59:00.000Z: it stops at its next heartbeat\)$/m,
    );
    expect(running.stdout).not.toMatch(/^cancelRequestedAt/m);
    expect(running.stdout).toMatch(/^debounce\s+window job: 3 enqueues folded in, latest 3$/m);
    expect(cancelled.stdout).toMatch(/^status\s+CANCELLED$/m);
    expect(cancelled.stdout).not.toMatch(/^(tenant|cancelRequestedAt|debounce)\s/m);
    expect(stopped.stdout).toMatch(/^status\s+CANCELLED$/m);
    expect(stopped.stdout).toMatch(/^cancelRequestedAt\s+2026-03-01T11:58:00.000Z$/m);
    expect(failedSend.stdout).toMatch(
      /^debounce\s+window job: 3 enqueues folded in, latest 2 \(send failed: 3\)$/m,
    );
    expect(JSON.parse(json.stdout)).toMatchObject({
      tenant: 'acme',
      cancelRequestedAt: '2026-03-01T11:59:00.000Z',
      debounce: { seq: 3, failed: [] },
    });
  });
});

describe('stats: Limits', () => {
  function quietStack() {
    mocks.sqs.on(GetQueueAttributesCommand).resolves({ Attributes: {} });
    mocks.cloudwatch.on(GetMetricDataCommand).resolves({});
    mocks.cloudwatch.on(DescribeAlarmsCommand).resolves({});
  }

  it('lists the limits of the registry with the state of whole-type limits from the ledger', async () => {
    // Prepare: 2 live leases and 1 ended; the bucket had 10 taken in the last 14 s
    quietStack();
    const T = 6000; // 60 s / 10
    mocks.ddb.on(GetItemCommand, { Key: { jobId: { S: limitItemId('rate', 'sync-crm') } } }).resolves({
      Item: { jobId: { S: limitItemId('rate', 'sync-crm') }, tat: { N: String(NOW + 10 * T - 14_000) } },
    });
    mocks.ddb.on(GetItemCommand, { Key: { jobId: { S: limitItemId('concurrency', 'sync-crm') } } }).resolves({
      Item: {
        jobId: { S: limitItemId('concurrency', 'sync-crm') },
        holders: {
          M: { a: { N: String(NOW + 5000) }, b: { N: String(NOW + 9000) }, c: { N: String(NOW - 1) } },
        },
      },
    });

    // Act
    const text = await run(['stats', '--registry', LIMITS_REGISTRY], NOW);
    const json = await run(['stats', '--registry', LIMITS_REGISTRY, '--json'], NOW);

    // Assess
    expect(text.code).toBe(EXIT.ok);
    const section = text.stdout.slice(text.stdout.indexOf('\nLimits:\n'));
    expect(section).toMatch(/^TYPE\s+LIMIT\s+SCOPE\s+NOW$/m);
    expect(section).toMatch(
      /^sync-crm\s+10 per 60 s\s+whole type\s+2 of 10 tokens left, full at 2026-03-01T12:00:46.000Z$/m,
    );
    expect(section).toMatch(/^sync-crm\s+at most 3 at once\s+whole type\s+2 running$/m);
    expect(section).toMatch(/^per-account\s+at most 2 at once\s+per key\s+\(one per key\)$/m);
    expect(section).toMatch(/^reindex\s+debounce 30 s, keep last\s+per key/m);
    expect(section).not.toMatch(/^plain/m);
    expect(text.stdout.indexOf('Limits:')).toBeLessThan(text.stdout.indexOf('alarms:'));
    // Only the whole-type limiter items are read, strongly consistent, from the ledger table.
    const reads = mocks.ddb.commandCalls(GetItemCommand).map((c) => c.args[0].input);
    expect(new Set(reads.map((r) => r.Key?.jobId?.S))).toEqual(
      new Set([limitItemId('rate', 'sync-crm'), limitItemId('concurrency', 'sync-crm')]),
    );
    expect(reads.every((r) => r.TableName === CONFIG.tableName && r.ConsistentRead)).toBe(true);
    expect(JSON.parse(json.stdout).limits).toEqual([
      {
        type: 'sync-crm',
        kind: 'rate',
        limit: '10 per 60 s',
        perKey: false,
        settings: { limit: 10, perSeconds: 60 },
        state: '2 of 10 tokens left, full at 2026-03-01T12:00:46.000Z',
        tokens: 2,
        fullAt: '2026-03-01T12:00:46.000Z',
      },
      {
        type: 'sync-crm',
        kind: 'concurrency',
        limit: 'at most 3 at once',
        perKey: false,
        settings: { limit: 3 },
        state: '2 running',
        running: 2,
      },
      {
        type: 'per-account',
        kind: 'concurrency',
        limit: 'at most 2 at once',
        perKey: true,
        settings: { limit: 2 },
        state: null,
      },
      {
        type: 'reindex',
        kind: 'debounce',
        limit: 'debounce 30 s, keep last',
        perKey: true,
        settings: { seconds: 30, keep: 'last' },
        state: null,
      },
    ]);
  });

  it('calls an idle bucket full and an absent lease map 0 running', async () => {
    // Prepare
    quietStack();
    mocks.ddb.on(GetItemCommand).resolves({});

    // Act
    const result = await run(['stats', '--registry', LIMITS_REGISTRY], NOW);

    // Assess
    expect(result.stdout).toMatch(/^sync-crm\s+10 per 60 s\s+whole type\s+full \(10 tokens\)$/m);
    expect(result.stdout).toMatch(/^sync-crm\s+at most 3 at once\s+whole type\s+0 running$/m);
  });

  it('still shows the limits, without state, when the ledger cannot be read', async () => {
    // Prepare
    quietStack();
    mocks.ddb.on(GetItemCommand).rejects(new Error('AccessDeniedException: no GetItem'));

    // Act
    const result = await run(['stats', '--registry', LIMITS_REGISTRY], NOW);

    // Assess
    expect(result.code).toBe(EXIT.ok);
    expect(result.stdout).toMatch(/^sync-crm\s+10 per 60 s\s+whole type\s+-$/m);
    expect(
      result.stdout.match(/warning: limit states unavailable: AccessDeniedException: no GetItem/g),
    ).toHaveLength(1);
  });

  it('has no Limits section, and reads no limiter item, when no job type declares a limit', async () => {
    // Prepare
    quietStack();

    // Act
    const text = await run(['stats', '--registry', PLAIN_REGISTRY], NOW);
    const json = await run(['stats', '--registry', PLAIN_REGISTRY, '--json'], NOW);

    // Assess
    expect(text.code).toBe(EXIT.ok);
    expect(text.stdout).not.toMatch(/Limits/);
    expect(JSON.parse(json.stdout).limits).toEqual([]);
    expect(mocks.ddb.calls()).toHaveLength(0);
  });

  it('top shows the Limits too, and a missing --registry is a usage error before any AWS call', async () => {
    // Prepare
    quietStack();
    mocks.ddb.on(GetItemCommand).resolves({});

    // Act
    const top = await run(['top', '--iterations', '1', '--registry', LIMITS_REGISTRY], NOW);
    const missing = await run(['stats', '--registry', 'nope/jobs.ts']);

    // Assess
    expect(top.stdout).toMatch(/^sync-crm\s+at most 3 at once\s+whole type\s+0 running$/m);
    expect(missing.code).toBe(EXIT.usage);
    expect(missing.stderr).toMatch(/Registry module not found/);
    expect(mocks.cfn.calls()).toHaveLength(1);
  });
});

describe('rateState', () => {
  it('follows the GCRA rule of Limits.takeToken: tokens left, then when the next one frees up', () => {
    const now = NOW;
    // 10 per 60 s: T = 6 s. tat = now + 60 s: all 10 taken just now.
    expect(rateState(10, 60_000, now + 60_000, now)).toEqual({
      state: 'no tokens: next in 6s (at 2026-03-01T12:00:06.000Z)',
      tokens: 0,
      nextTokenAt: '2026-03-01T12:00:06.000Z',
      fullAt: '2026-03-01T12:01:00.000Z',
    });
    // One taken just now: 9 left.
    expect(rateState(10, 60_000, now + 6000, now).tokens).toBe(9);
    expect(rateState(10, 60_000, now, now)).toEqual({ state: 'full (10 tokens)', tokens: 10 });
    expect(rateState(1, 1000, undefined, now).tokens).toBe(1);
  });
});
