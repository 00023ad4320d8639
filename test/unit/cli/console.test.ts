/**
 * The console's routes and guards, in-process (hono's app.request) against mocked AWS clients:
 * the token, the loopback Host check, CSRF and origin checks on every change, --read-only,
 * escaping of untrusted DLQ bodies, confirmations that name what happens, clear errors for bad
 * input, the chart series' sources. The browser tests (test/integ/console.test.ts) drive the same
 * pages in Chromium against LocalStack.
 */

import { type AddressInfo, createServer } from 'node:net';
import { DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetScheduleCommand, ListSchedulesCommand } from '@aws-sdk/client-scheduler';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { Hono } from 'hono';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createConsoleApp } from '../../../cli/console/app';
import { loadAssets } from '../../../cli/console/assets';
import { gatherSeries, minutes } from '../../../cli/console/data';
import { startConsole } from '../../../cli/console/server';
import { StackContext } from '../../../cli/context';
import { EXIT } from '../../../cli/errors';
import { withDefaults } from '../../../cli/io';
import { DEFAULT_STACK_NAME } from '../../../lambdas/shared/defaults';
import { body, CONFIG, mocks, resetMocks, run, serviceError } from './support/harness';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const PORT = 4680;
const TOKEN = 'tok-0123456789';
const CSRF = 'csrf-0123456789';

function stackContext(): StackContext {
  return new StackContext(
    {
      stack: DEFAULT_STACK_NAME,
      json: false,
      source: 'aws',
      shown: { stack: { value: DEFAULT_STACK_NAME, from: 'default' } },
      tried: [],
    },
    withDefaults({ env: {}, now: () => NOW, stdout: () => undefined, stderr: () => undefined }),
  );
}

function app(readOnly = false): { app: Hono; stack: StackContext } {
  const stack = stackContext();
  return {
    stack,
    app: createConsoleApp({
      stack,
      token: TOKEN,
      csrf: CSRF,
      readOnly,
      port: PORT,
      assets: loadAssets(),
      metricsNamespace: 'SqsJobs',
      refreshSeconds: 5,
      target: 'endpoint http://127.0.0.1:4566',
    }),
  };
}

const host = { host: `127.0.0.1:${PORT}` };
const get = (a: Hono, path: string, headers: Record<string, string> = host) => a.request(path, { headers });
const post = (a: Hono, path: string, form: Record<string, string>, headers: Record<string, string> = host) =>
  a.request(path, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
const withToken = (path: string) => `${path}${path.includes('?') ? '&' : '?'}token=${TOKEN}`;

function dlqWith(...messages: { id: string; body?: string }[]) {
  mocks.sqs.on(GetQueueAttributesCommand).resolves({
    Attributes: {
      ApproximateNumberOfMessages: String(messages.length),
      ApproximateNumberOfMessagesNotVisible: '0',
    },
  });
  mocks.sqs
    .on(ReceiveMessageCommand)
    .resolvesOnce({
      Messages: messages.map((m) => ({
        MessageId: `m-${m.id}`,
        ReceiptHandle: `r-${m.id}`,
        Body: m.body ?? body(m.id),
      })),
    })
    .resolves({ Messages: [] });
  mocks.sqs.on(ChangeMessageVisibilityBatchCommand).resolves({});
  mocks.ddb.on(GetItemCommand).resolves({});
}

let stack: StackContext | undefined;
beforeEach(() => resetMocks());
afterEach(() => stack?.destroy());

describe('console guards', () => {
  it('refuses a request without the token, or with a wrong one, and serves it with the token', async () => {
    // Prepare
    mocks.sqs.on(GetQueueAttributesCommand).resolves({ Attributes: {} });
    mocks.cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
    mocks.cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    const { app: a } = app();

    // Act
    const none = await get(a, '/');
    const wrong = await get(a, '/?token=tok-0123456788');
    const asset = await get(a, '/assets/htmx.min.js');
    const ok = await get(a, withToken('/'));

    // Assess
    expect(none.status).toBe(403);
    expect(await none.text()).toContain('lacks the console token');
    expect(wrong.status).toBe(403);
    expect(asset.status).toBe(403);
    expect(ok.status).toBe(200);
    const page = await ok.text();
    for (const lane of Object.keys(CONFIG.lanes)) expect(page).toContain(`data-lane="${lane}"`);
    expect(ok.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(ok.headers.get('referrer-policy')).toBe('same-origin');
  });

  it('refuses a Host other than loopback on its port (DNS rebinding)', async () => {
    const { app: a } = app();
    const evil = await get(a, withToken('/'), { host: `evil.example:${PORT}` });
    const otherPort = await get(a, withToken('/'), { host: '127.0.0.1:9999' });
    expect(evil.status).toBe(403);
    expect(await evil.text()).toContain("named host 'evil.example:4680'");
    expect(otherPort.status).toBe(403);
  });

  it('serves its static files with their types, htmx and uPlot from their packages', async () => {
    const { app: a } = app();
    const htmx = await get(a, withToken('/assets/htmx.min.js'));
    const css = await get(a, withToken('/assets/uPlot.min.css'));
    expect(htmx.headers.get('content-type')).toContain('javascript');
    expect(await htmx.text()).toContain('htmx');
    expect(css.headers.get('content-type')).toContain('text/css');
    expect((await get(a, withToken('/assets/nope.js'))).status).toBe(404);
  });

  it('refuses a change without the CSRF token, from another origin, or from a cross-site page, and sends nothing', async () => {
    // Prepare
    dlqWith({ id: 'j1' });
    const { app: a } = app();

    // Act
    const noCsrf = await post(a, withToken('/dlq/default/retry'), { id: 'j1' });
    const badCsrf = await post(a, withToken('/dlq/default/retry'), { id: 'j1', csrf: 'csrf-0123456788' });
    const otherOrigin = await post(
      a,
      withToken('/dlq/default/retry'),
      { id: 'j1', csrf: CSRF },
      { ...host, origin: 'http://evil.example' },
    );
    const crossSite = await post(
      a,
      withToken('/dlq/default/retry'),
      { id: 'j1', csrf: CSRF },
      { ...host, 'sec-fetch-site': 'cross-site' },
    );
    const noToken = await post(a, '/dlq/default/retry', { id: 'j1', csrf: CSRF });

    // Assess
    for (const r of [noCsrf, badCsrf, otherOrigin, crossSite, noToken]) expect(r.status).toBe(403);
    expect(await noCsrf.text()).toContain('CSRF');
    expect(await otherOrigin.text()).toContain("another origin ('http://evil.example')");
    expect(mocks.sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
    expect(mocks.sqs.commandCalls(DeleteMessageCommand)).toHaveLength(0);
  });

  it('--read-only shows no actions and refuses every change', async () => {
    // Prepare
    dlqWith({ id: 'j1' });
    const { app: a } = app(true);

    // Act
    const page = await (await get(a, withToken('/dlq/default'))).text();
    const confirm = await get(a, withToken('/dlq/default/confirm?action=retry&id=j1'));
    const retry = await post(a, withToken('/dlq/default/retry'), { id: 'j1', csrf: CSRF });
    const cancel = await post(a, withToken('/jobs/j1/cancel'), { csrf: CSRF });

    // Assess
    expect(page).toContain('data-job-id="j1"');
    expect(page).toContain('read-only');
    expect(page).not.toContain('Retry…');
    expect(page).not.toContain('Purge…');
    expect(confirm.status).toBe(403);
    expect(retry.status).toBe(403);
    expect(await retry.text()).toContain('--read-only');
    expect(cancel.status).toBe(403);
    expect(mocks.sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
  });
});

describe('console pages', () => {
  it('shows a DLQ body as text: markup in it is escaped, never markup of the page', async () => {
    // Prepare
    const hostile = '<script>window.pwned=1</script><img src=x onerror="alert(1)">';
    dlqWith({ id: 'bad', body: hostile });
    const { app: a } = app();

    // Act
    const page = await (await get(a, withToken('/dlq/default'))).text();

    // Assess
    expect(page).toContain(
      '&lt;script&gt;window.pwned=1&lt;/script&gt;&lt;img src=x onerror=&quot;alert(1)&quot;&gt;',
    );
    expect(page).not.toContain('<script>window.pwned');
    expect(page).not.toContain('<img src=x');
  });

  it('confirms a retry naming the job and lane, then sends it back before deleting it from the DLQ', async () => {
    // Prepare
    dlqWith({ id: 'j1' });
    mocks.sqs.on(SendMessageCommand).resolves({ MessageId: 'sent-1' });
    mocks.sqs.on(DeleteMessageCommand).resolves({});
    const { app: a } = app();

    // Act
    const confirm = await (await get(a, withToken('/dlq/default/confirm?action=retry&id=j1'))).text();
    const done = await post(a, withToken('/dlq/default/retry'), { id: 'j1', csrf: CSRF });
    const outcome = done.headers.get('location') ?? '';
    const shown = await get(a, outcome);
    const reloaded = await get(a, outcome);

    // Assess: the change redirects to its outcome; showing that again changes nothing.
    expect(confirm).toContain('Job j1 is sent from the default DLQ back to the default lane');
    expect(confirm).toContain(`name="csrf" value="${CSRF}"`);
    expect(done.status).toBe(303);
    expect(outcome).toMatch(/^\/done\/[\w-]+\?token=/);
    expect(await shown.text()).toContain('Job j1 was sent back to the default lane (message sent-1)');
    expect(reloaded.status).toBe(200);
    expect(mocks.sqs.commandCalls(SendMessageCommand)).toHaveLength(1);
    const sent = mocks.sqs.commandCalls(SendMessageCommand)[0].args[0].input;
    expect(sent).toMatchObject({ QueueUrl: CONFIG.lanes.default.queueUrl, MessageBody: body('j1') });
    const deleted = mocks.sqs.commandCalls(DeleteMessageCommand)[0].args[0].input;
    expect(deleted).toMatchObject({ QueueUrl: CONFIG.lanes.default.dlqUrl, ReceiptHandle: 'r-j1' });
  });

  it('finds one job in a DLQ by id, looking past the messages before it, and releases them all', async () => {
    // Prepare
    dlqWith({ id: 'a' }, { id: 'b' }, { id: 'c' });
    const { app: a } = app();

    // Act
    const page = await (await get(a, withToken('/dlq/default?job=b'))).text();

    // Assess
    expect(page).toContain('data-job-id="b"');
    expect(page).not.toContain('data-job-id="a"');
    expect(page).toContain('found after looking at 3 message(s)');
    const released = mocks.sqs.commandCalls(ChangeMessageVisibilityBatchCommand)[0].args[0].input;
    expect(released.Entries?.map((e) => e.ReceiptHandle)).toEqual(['r-a', 'r-b', 'r-c']);
  });

  it('answers an unexpected failure with 500 and logs it, and AWS refusing with 502', async () => {
    // Prepare
    const lines: string[] = [];
    const stack = stackContext();
    const a = createConsoleApp({
      stack,
      token: TOKEN,
      csrf: CSRF,
      readOnly: false,
      port: PORT,
      assets: loadAssets(),
      metricsNamespace: 'SqsJobs',
      refreshSeconds: 5,
      target: 't',
      log: (line) => lines.push(line),
    });
    mocks.ddb
      .on(GetItemCommand)
      .rejects(new TypeError("Cannot read properties of undefined (reading 'Item')"));
    mocks.sqs
      .on(GetQueueAttributesCommand)
      .rejects(serviceError('AccessDenied', 'not authorized to GetQueueAttributes', 403));

    // Act
    const job = await get(a, withToken('/jobs/j1'));
    const dlq = await get(a, withToken('/dlq/default'));

    // Assess
    expect(job.status).toBe(500);
    expect(dlq.status).toBe(502);
    expect(await dlq.text()).toContain('not authorized');
    expect(lines.some((l) => l.startsWith('GET /jobs/j1: 500'))).toBe(true);
    stack.destroy();
  });

  it('names the field, the allowed values and the value given for bad input', async () => {
    const { app: a } = app();
    const action = await get(a, withToken('/dlq/default/confirm?action=explode'));
    const lookup = await get(a, withToken('/jobs/lookup?type=bad%20type&key=k'));
    const lane = await get(a, withToken('/dlq/nope'));
    expect(action.status).toBe(400);
    expect(await action.text()).toContain(
      'action must be one of retry, delete, redrive, purge; got &#39;explode&#39;',
    );
    expect(lookup.status).toBe(400);
    expect(await lookup.text()).toContain('Job type must be a job type');
    expect(lane.status).toBe(404);
    expect(await lane.text()).toContain('Unknown lane &#39;nope&#39;');
  });

  it('looks a keyed job up by type and key: the same id the client derives', async () => {
    const { app: a } = app();
    const r = await get(a, withToken('/jobs/lookup?type=send-email&key=welcome-1'));
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toMatch(/^\/jobs\/k-[0-9a-f]{40}\?token=/);
  });

  it('says why it cannot list jobs when the ledger has no search index', async () => {
    const { app: a } = app();
    const page = await (await get(a, withToken('/jobs?status=DEAD'))).text();
    expect(page).toContain('needs the ledger&#39;s search index');
  });

  it('lists schedules with their next three firings in their own time zone', async () => {
    // Prepare
    mocks.scheduler.on(ListSchedulesCommand).resolves({ Schedules: [{ Name: 'nightly' }] });
    mocks.scheduler.on(GetScheduleCommand).resolves({
      Name: 'nightly',
      State: 'ENABLED',
      ScheduleExpression: 'cron(0 2 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      Target: { Arn: CONFIG.lanes.default.queueArn, RoleArn: 'r', Input: '{"type":"nightly-cleanup"}' },
    });
    const { app: a } = app();

    // Act
    const page = await (await get(a, withToken('/schedules'))).text();

    // Assess: 02:00 in Berlin (CET, UTC+1 in March before the switch) is 01:00 UTC.
    expect(page).toContain('2026-03-02 02:00 GMT+1');
    expect(page).toContain('2026-03-03 02:00 GMT+1');
    expect(page).toContain('2026-03-04 02:00 GMT+1');
    expect(page).toContain('datetime="2026-03-02T01:00:00.000Z"');
    expect(page).toContain('nightly-cleanup');
  });
});

describe('chart series', () => {
  it('takes CloudWatch figures by minute when there are any', async () => {
    // Prepare
    const at = minutes(NOW);
    mocks.cloudwatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'succeeded', Timestamps: [new Date(at[59] * 1000)], Values: [9] },
        { Id: 'failed', Timestamps: [new Date(at[59] * 1000)], Values: [1] },
      ],
    });
    stack = stackContext();

    // Act
    const series = await gatherSeries(stack, 'SqsJobs', NOW);

    // Assess
    expect(series.source).toBe('cloudwatch');
    expect(series.succeeded[59]).toBe(9);
    expect(series.failed[59]).toBe(1);
    expect(series.failureRate[59]).toBe(10);
    expect(series.failureRate[0]).toBeNull();
    const query = mocks.cloudwatch.commandCalls(GetMetricDataCommand)[0].args[0].input;
    expect(query.MetricDataQueries?.[0].Expression).toContain(
      '{SqsJobs,JobType,Lane} MetricName="JobSucceeded"',
    );
  });

  it('says why there is nothing when CloudWatch has no data and the ledger has no index', async () => {
    mocks.cloudwatch.on(GetMetricDataCommand).rejects(new Error('SEARCH is not supported'));
    stack = stackContext();
    const series = await gatherSeries(stack, 'SqsJobs', NOW);
    expect(series.source).toBe('none');
    expect(series.note).toContain('SEARCH is not supported');
    expect(series.note).toContain('jobSearch: true');
    expect(series.at).toHaveLength(60);
  });
});

describe('console server', () => {
  it('listens on 127.0.0.1 only and prints a URL that carries the token', async () => {
    // Prepare
    mocks.sqs.on(GetQueueAttributesCommand).resolves({ Attributes: {} });
    mocks.cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
    stack = stackContext();
    const running = await startConsole({
      stack,
      port: 0,
      readOnly: false,
      metricsNamespace: 'SqsJobs',
      refreshSeconds: 5,
      target: 'test',
    });
    try {
      // Act
      const url = new URL(running.url);
      const ok = await fetch(running.url);
      const bare = await fetch(`http://127.0.0.1:${running.port}/`);

      // Assess
      expect(url.hostname).toBe('127.0.0.1');
      expect(url.searchParams.get('token')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(ok.status).toBe(200);
      expect(bare.status).toBe(403);
    } finally {
      await running.close();
    }
  });
});

describe('console command', () => {
  it('says which port it cannot listen on, and how to pick another', async () => {
    // Prepare: the port is taken.
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      // Act
      const result = await run(['console', '--port', String(port)]);

      // Assess
      expect(result.code).toBe(EXIT.failure);
      expect(result.stderr).toContain(`Cannot listen on 127.0.0.1:${port} (EADDRINUSE)`);
      expect(result.stderr).toContain('--port 0 for any free one');
    } finally {
      taken.close();
    }
  });

  it('refuses a refresh interval or a namespace outside what it allows, naming the flag', async () => {
    const refresh = await run(['console', '--refresh', '1']);
    const namespace = await run(['console', '--metrics-namespace', 'bad namespace!']);
    expect(refresh.code).toBe(EXIT.usage);
    expect(refresh.stderr).toContain("--refresh must be a whole number of seconds from 2 to 300; got '1'");
    expect(namespace.code).toBe(EXIT.usage);
    expect(namespace.stderr).toContain('--metrics-namespace must be a CloudWatch namespace');
  });

  it('prints its URL, serves until stopped, then says it stopped', async () => {
    // Prepare
    const stop = new AbortController();
    let printed = '';

    // Act: stop it as soon as it printed its URL.
    const result = await run(['console', '--port', '0'], undefined, {
      signal: stop.signal,
      stdout: (text) => {
        printed += text;
        if (printed.includes('open: ')) stop.abort();
      },
    });

    // Assess
    expect(result.code).toBe(EXIT.ok);
    expect(printed).toMatch(/^open: http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{43}$/m);
    expect(result.stderr).toContain('console stopped');
  });
});
