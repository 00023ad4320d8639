/**
 * The operator console as a person uses it: `sqs-jobs console` started as a process against the
 * example stack on LocalStack, driven by headless Chromium (Debian's package, through
 * playwright-core; scripts/ensure-chromium.sh installs it when missing). A dead job is found and
 * retried from its DLQ page until it succeeds, a delayed job is cancelled, a hostile DLQ body shows
 * as text, a request without the token is refused, and a --read-only console offers and accepts
 * no change.
 *
 * With CONSOLE_SCREENSHOTS=<dir> it also saves the screenshots the README shows.
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DeployedStack, deployedStack } from '../../scripts/local/deployed-stack';
import {
  type ConsoleProcess,
  envelopeId,
  peekMessages,
  spawnConsole,
  waitFor,
  waitForStatus,
} from './helpers';

const ROOT = path.resolve(__dirname, '..', '..');
const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS
  ? path.resolve(ROOT, process.env.CONSOLE_SCREENSHOTS)
  : undefined;

/** Starts `sqs-jobs console` as a user would (through tsx, like `npm run console`), on a free port. */
function startConsole(stack: DeployedStack, ...flags: string[]): Promise<ConsoleProcess> {
  return spawnConsole(
    path.join(ROOT, 'node_modules', '.bin', 'tsx'),
    [path.join(ROOT, 'bin', 'sqs-jobs.ts'), 'console', '--port', '0', '--stack', stack.stackName, ...flags],
    { cwd: ROOT, env: process.env, started: (child) => children.push(child) },
  );
}

/** Every console process started, stopped in afterAll even when start-up failed half-way. */
const children: ChildProcess[] = [];

let stack: DeployedStack;
let browser: Browser;
let live: ConsoleProcess;
let readOnly: ConsoleProcess;

const at = (c: ConsoleProcess, pathname: string) =>
  `${c.base}${pathname}${pathname.includes('?') ? '&' : '?'}token=${c.token}`;

async function shot(page: Page, name: string): Promise<void> {
  if (!SCREENSHOTS) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** The job ids in the lane's DLQ, read without consuming it. */
async function dlqIds(lane: string): Promise<string[]> {
  const messages = await peekMessages(stack.sqs, stack.config.lanes[lane].dlqUrl, 200);
  return messages.map(envelopeId).filter((id): id is string => id !== undefined);
}

// A job that fails (retryably) on each of the default lane's 4 attempts and succeeds on the 5th:
// once sent back from the DLQ. Counted in attempts, not time.
let deadJob: string;

beforeAll(async () => {
  stack = await deployedStack();
  const executablePath = execFileSync('bash', [path.join(ROOT, 'scripts', 'ensure-chromium.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  deadJob = (await stack.client.enqueue('flaky-task', { failTimes: 4 })).jobId;
  [browser, live, readOnly] = await Promise.all([
    chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] }),
    startConsole(stack),
    startConsole(stack, '--read-only'),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGINT');
        }),
    ),
  );
});

describe('operator console in a browser', () => {
  it('prints its URL on 127.0.0.1 with a token, and refuses a request without the token', async () => {
    // Act
    const bare = await fetch(`${live.base}/`);
    const wrongToken = await fetch(`${live.base}/?token=${'x'.repeat(live.token.length)}`);
    const page = await browser.newPage();
    const response = await page.goto(`${live.base}/dlq/default`);

    // Assess
    expect(live.output()).toContain(`sqs-jobs console for stack ${stack.stackName}`);
    expect(bare.status).toBe(403);
    expect(wrongToken.status).toBe(403);
    expect(response?.status()).toBe(403);
    expect(await page.textContent('body')).toContain('lacks the console token');
    await page.close();
  });

  it('shows every lane with its depths and alarm state, and charts, refreshing without a reload', async () => {
    // Prepare
    const page = await browser.newPage();
    await page.goto(live.url);

    // Act: mark this page; a reload would lose the mark.
    await page.evaluate('window.consoleMark = 42');
    const firstUpdate = await page.textContent('#updated');

    // Assess
    for (const lane of Object.keys(stack.config.lanes)) {
      await expect.poll(() => page.locator(`tr[data-lane="${lane}"]`).count()).toBe(1);
    }
    const cells = await page.locator('tr[data-lane="default"] td').allTextContents();
    expect(cells).toHaveLength(7);
    expect(cells[1]).toMatch(/^\d+$/);
    expect(cells[6]).toMatch(/OK|ALARM|INSUFFICIENT_DATA|-/);
    // The charts: uPlot draws a canvas once the series arrived (from CloudWatch or the ledger).
    await page.waitForSelector('#chart-throughput canvas', { timeout: 60_000 });
    expect(await page.getAttribute('#charts', 'data-source')).toMatch(/^(cloudwatch|ledger)$/);
    expect(await page.getAttribute('#charts', 'data-points')).toBe('60');
    // Live: the overview section is swapped in place by htmx.
    await expect
      .poll(() => page.textContent('#updated'), { timeout: 60_000, interval: 500 })
      .not.toBe(firstUpdate);
    expect(await page.evaluate('window.consoleMark')).toBe(42);
    await shot(page, 'overview');
    await page.close();
  });

  it('finds a dead job on its DLQ page, retries it after a confirmation, and sees it succeed', async () => {
    // Prepare: the job died on its 4 attempts and SQS moved it to the DLQ.
    await waitFor(
      `${deadJob} in the default DLQ`,
      async () => ((await dlqIds('default')).includes(deadJob) ? true : undefined),
      {
        timeoutMs: 300_000,
        intervalMs: 2000,
      },
    );
    const page = await browser.newPage();

    // Act: the overview links the lane's DLQ; its page lists the job with its reason.
    await page.goto(live.url);
    await page.click('tr[data-lane="default"] a.dlq-depth');
    // The DLQ may hold more than the page shows (other test files leave dead jobs): find it.
    await page.fill('form.lookup input[name="job"]', deadJob);
    await page.click('#find');
    const row = page.locator(`tr[data-job-id="${deadJob}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('planned failure 4 of 4');
    await shot(page, 'dlq');
    await row.locator('a.retry').click();
    const confirmation = await page.textContent('#confirmation');
    await page.click('#confirm');
    const outcome = await page.textContent('#outcome');
    await page.click('text=Follow the job');

    // Assess: the job page updates itself until the job succeeded.
    expect(confirmation).toContain(`Job ${deadJob} is sent from the default DLQ back to the default lane`);
    expect(outcome).toContain(`Job ${deadJob} was sent back to the default lane`);
    await page.waitForSelector('#job[data-status="SUCCEEDED"]', { timeout: 300_000 });
    expect(await page.textContent('#job')).toContain('"attempt": 5');
    expect((await stack.client.getJob(deadJob))?.status).toBe('SUCCEEDED');
    expect(await dlqIds('default')).not.toContain(deadJob);
    await shot(page, 'job');
    await page.close();
  });

  it('cancels a delayed job after a confirmation that names it', async () => {
    // Prepare
    const key = `console-cancel-${Date.now()}`;
    const { jobId } = await stack.client.enqueue(
      'flaky-task',
      {},
      { delaySeconds: 600, idempotencyKey: key },
    );
    const page = await browser.newPage();

    // Act: look it up by its type and key, as an operator would.
    await page.goto(at(live, '/jobs'));
    await page.fill('form.lookup input[name="type"]', 'flaky-task');
    await page.fill('form.lookup input[name="key"]', key);
    await page.click('form.lookup button');
    await page.waitForSelector('#job[data-status="ENQUEUED"]');
    await page.click('#cancel');
    const confirmation = await page.textContent('#confirmation');
    await page.click('#confirm');
    const outcome = await page.textContent('#outcome');

    // Assess
    expect(confirmation).toContain(`Job ${jobId} (flaky-task, lane default) is ENQUEUED`);
    expect(confirmation).toContain('It will never run');
    expect(outcome).toContain('CANCELLED');
    expect((await stack.client.getJob(jobId))?.status).toBe('CANCELLED');
    await page.close();
  });

  it('shows a DLQ body holding markup as text, and deletes that message after a confirmation', async () => {
    // Prepare: a message no consumer wrote, straight into the DLQ.
    const hostile = `<script>document.title='pwned'</script><img src=x onerror="document.title='pwned'"> ${Date.now()}`;
    const sent = await stack.sqs.send(
      new SendMessageCommand({ QueueUrl: stack.config.lanes.high.dlqUrl, MessageBody: hostile }),
    );
    const page = await browser.newPage();

    // Act
    await page.goto(at(live, `/dlq/high?job=${sent.MessageId}`));
    const row = page.locator(`tr[data-message-id="${sent.MessageId}"]`);
    await row.waitFor();
    const shown = await row.locator('pre.body').textContent();
    const images = await row.locator('img').count();
    const title = await page.title();
    await row.locator('a.delete').click();
    await page.click('#confirm');

    // Assess
    expect(shown).toBe(hostile);
    expect(images).toBe(0);
    expect(title).not.toBe('pwned');
    expect(await page.textContent('#outcome')).toContain(
      `The message of job ${sent.MessageId} was deleted from the high DLQ`,
    );
    await waitFor('the hostile message to leave the DLQ', async () => {
      const left = await peekMessages(stack.sqs, stack.config.lanes.high.dlqUrl, 200);
      return left.some((m) => m.MessageId === sent.MessageId) ? undefined : true;
    });
    await page.close();
  });

  it('lists jobs by status, and schedules with their next firings in their time zone', async () => {
    // Prepare
    const { jobId } = await stack.client.enqueue('flaky-task', {});
    await waitForStatus(stack, jobId, ['SUCCEEDED']);
    const page = await browser.newPage();

    // Act and assess: the search index is eventually consistent, so list until the job shows.
    await expect
      .poll(
        async () => {
          await page.goto(at(live, '/jobs?status=SUCCEEDED&since=15m'));
          return page.locator(`#jobs a:text("${jobId}")`).count();
        },
        { timeout: 60_000, interval: 1000 },
      )
      .toBe(1);
    await page.goto(at(live, '/schedules'));
    const rows = page.locator('#schedules tbody tr[data-schedule]');
    expect(await rows.count()).toBeGreaterThan(0);
    const cron = page.locator('#schedules tr', { hasText: 'cron(' }).first();
    expect(await cron.locator('ol.firings li').count()).toBe(3);
    await shot(page, 'schedules');
    await page.close();
  });

  it('--read-only shows no action and refuses a change', async () => {
    // Prepare
    const page = await browser.newPage();

    // Act
    await page.goto(at(readOnly, '/dlq/default'));
    const actions = await page.locator('a.retry, a.delete, #redrive, #purge').count();
    const badge = await page.textContent('header .ro');
    const refused = await fetch(at(readOnly, '/dlq/default/purge'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'csrf=anything',
    });

    // Assess
    expect(actions).toBe(0);
    expect(badge).toContain('read-only');
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('--read-only');
    await page.close();
  });
});
