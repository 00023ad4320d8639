/**
 * The console's routes (hono). Every read reuses what the CLI commands use (gatherStats, readDlq,
 * listSchedules, JobClient.getJob / listJobs / cancel); every mutation reuses the CLI's own
 * operation (retryDlqJob, deleteDlqJob, startRedrive, purgeDlq, JobClient.cancel), behind a
 * confirmation page that names what will happen and a POST carrying the CSRF token.
 */
import { randomBytes } from 'node:crypto';
import { type Context, Hono } from 'hono';
import { isJobType, JOB_TYPE_RULE } from '../../lambdas/shared/checks';
import {
  JOB_STATUSES,
  type JobRecord,
  type JobStatus,
  LIMIT_ITEM_PREFIX,
} from '../../lambdas/shared/contract';
import { jobIdForKey, MAX_JOB_ID_LENGTH } from '../../lambdas/shared/envelope';
import { isJobsError } from '../../lambdas/shared/errors';
import { toCliError } from '../classify';
import { readDlq } from '../commands/dlq-list';
import { purgeDlq } from '../commands/dlq-purge';
import { startRedrive } from '../commands/dlq-redrive';
import { deleteDlqJob, retryDlqJob } from '../commands/dlq-retry';
import { listSchedules } from '../commands/schedules';
import type { StackContext } from '../context';
import { CliError, EXIT } from '../errors';
import { flagError, IDEMPOTENCY_KEY_RULE, isIdempotencyKey } from '../flags';
import { gatherStats, laneAlarmState } from '../stats';
import type { Asset } from './assets';
import { gatherSeries, type Series } from './data';
import { loopbackHosts, SECURITY_HEADERS, sameSecret } from './security';
import {
  type Confirmation,
  confirmPage,
  dlqPage,
  errorPage,
  href,
  type JobsQuery,
  jobFragment,
  jobPage,
  jobsPage,
  overviewFragment,
  overviewPage,
  resultPage,
  SINCE_CHOICES,
  schedulesPage,
  type ViewContext,
} from './views';

export interface ConsoleAppOptions {
  readonly stack: StackContext;
  readonly token: string;
  readonly csrf: string;
  readonly readOnly: boolean;
  /** The port the server listens on: requests must name a loopback host with it. */
  readonly port: number;
  readonly assets: ReadonlyMap<string, Asset>;
  /** CloudWatch namespace of the consumers' job metrics. */
  readonly metricsNamespace: string;
  /** Seconds between live refreshes of the overview. */
  readonly refreshSeconds: number;
  /** Where it talks to, for the header. */
  readonly target: string;
  /** DLQ messages shown per page. @default 100 */
  readonly dlqLimit?: number;
  /** One line per change made and per unexpected error, for the terminal. @default - none */
  readonly log?: (line: string) => void;
}

/** What a change did, shown on its outcome page. */
interface Outcome {
  readonly title: string;
  readonly lines: readonly string[];
  readonly links: readonly (readonly [string, string])[];
  readonly active: string;
  readonly ok?: boolean;
}

type DlqAction = 'retry' | 'delete' | 'redrive' | 'purge';

/** What each DLQ action's confirmation page says; `oneJob` actions name one job (`id`). */
const DLQ_ACTIONS: Readonly<
  Record<
    DlqAction,
    {
      readonly oneJob: boolean;
      readonly confirm: (lane: string, id: string) => Omit<Confirmation, 'action' | 'fields' | 'back'>;
    }
  >
> = {
  retry: {
    oneJob: true,
    confirm: (lane, id) => ({
      title: `Retry job ${id}?`,
      consequences: [
        `Job ${id} is sent from the ${lane} DLQ back to the ${lane} lane, then deleted from the DLQ (send first, so it is never lost).`,
        'It runs again with its attempts so far; its ledger record stays DEAD until a consumer claims it.',
      ],
      button: 'Retry the job',
      danger: false,
    }),
  },
  delete: {
    oneJob: true,
    confirm: (lane, id) => ({
      title: `Delete job ${id} from the DLQ?`,
      consequences: [
        `The message of job ${id} is deleted from the ${lane} DLQ for good: it can no longer be retried.`,
        'The ledger keeps the job as DEAD, with its last error.',
      ],
      button: 'Delete the message',
      danger: true,
    }),
  },
  redrive: {
    oneJob: false,
    confirm: (lane) => ({
      title: `Redrive the ${lane} DLQ?`,
      consequences: [
        `Every message in the ${lane} DLQ is moved back to the ${lane} lane by an SQS message move task, and each job runs again.`,
        'SQS runs one move task per DLQ at a time; the overview shows the DLQ emptying.',
      ],
      button: 'Redrive all',
      danger: false,
    }),
  },
  purge: {
    oneJob: false,
    confirm: (lane) => ({
      title: `Purge the ${lane} DLQ?`,
      consequences: [
        `Every message in the ${lane} DLQ is deleted for good (PurgeQueue): none of them can be retried afterwards.`,
        'The ledger keeps the jobs as DEAD. SQS allows one purge per queue every 60 seconds.',
      ],
      button: 'Purge every message',
      danger: true,
    }),
  },
};

/** Outcome pages kept for GET after their change's redirect. */
const KEPT_OUTCOMES = 100;

/** A user error on a console form: 400 with a message naming the field, the allowed values and the value. */
class FormError extends Error {}

/** The CLI's own wording for a bad value (flagError), as a form error. */
const fieldError = (field: string, allowed: string, given: string) =>
  new FormError(flagError(field, allowed, given).message);

export function createConsoleApp(options: ConsoleAppOptions): Hono {
  const { stack, token, csrf, readOnly } = options;
  const hosts = loopbackHosts(options.port);
  const dlqLimit = options.dlqLimit ?? 100;
  const log = options.log ?? (() => undefined);
  const app = new Hono();
  let lanes: readonly string[] = [];
  const view = (): ViewContext => ({
    token,
    csrf,
    readOnly,
    stackName: stack.options.stack,
    target: options.target,
    lanes,
    refreshSeconds: options.refreshSeconds,
    now: stack.io.now,
  });

  app.use('*', async (c, next) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.header(k, v);
    const host = c.req.header('host') ?? '';
    if (!hosts.has(host)) {
      return c.text(
        `Refused: the console answers only to ${[...hosts].join(', ')}; this request named host '${host}'.\n`,
        403,
      );
    }
    if (!sameSecret(c.req.query('token'), token)) {
      return c.text(
        'Refused: this URL lacks the console token. Open the URL the console printed when it started (it ends with ?token=...).\n',
        403,
      );
    }
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      if (c.req.method !== 'POST')
        return c.text(`Refused: method ${c.req.method} is not used by the console.\n`, 405);
      if (readOnly)
        return c.text('Refused: this console runs with --read-only, so it changes nothing.\n', 403);
      const origin = c.req.header('origin');
      if (origin === 'null')
        return c.text("Refused: a change requested from an opaque origin ('null').\n", 403);
      if (origin !== undefined && !hosts.has(origin.replace(/^http:\/\//, ''))) {
        return c.text(`Refused: a change requested from another origin ('${origin}').\n`, 403);
      }
      const site = c.req.header('sec-fetch-site');
      if (site !== undefined && site !== 'same-origin' && site !== 'none') {
        return c.text(`Refused: a change requested by a ${site} page.\n`, 403);
      }
      const form = await c.req.parseBody();
      if (!sameSecret(typeof form.csrf === 'string' ? form.csrf : undefined, csrf)) {
        return c.text(
          'Refused: the form lacks the console CSRF token. Go back, reload the page and confirm again.\n',
          403,
        );
      }
    }
    if (lanes.length === 0) lanes = (await stack.lanes()).map((l) => l.name);
    await next();
    return undefined;
  });

  app.onError((error, c) => {
    const problem =
      error instanceof FormError
        ? { status: 400 as const, message: error.message, hint: undefined }
        : describeError(error, stack);
    if (problem.status >= 500 || problem.status === 409) {
      log(`${c.req.method} ${c.req.path}: ${problem.status} ${problem.message}`);
    }
    if (c.req.path.startsWith('/api/'))
      return c.json({ error: problem.message, hint: problem.hint }, problem.status);
    const title =
      problem.status === 404 ? 'Not found' : problem.status === 400 ? 'Bad input' : 'It did not work';
    return c.html(errorPage(view(), title, problem.message, problem.hint), problem.status);
  });

  app.get('/assets/:name', (c) => {
    const asset = options.assets.get(c.req.param('name'));
    if (!asset) return c.text('No such asset\n', 404);
    return c.body(asset.body, 200, { 'Content-Type': asset.type });
  });

  // ------------------------------------------------------------ overview
  const overview = async () => {
    const stats = await gatherStats(stack);
    const config = await stack.config();
    const rows = stats.lanes.map((l) => ({
      ...l,
      alarm: laneAlarmState({ name: l.lane, ...config.lanes[l.lane] }, stats.alarms),
    }));
    return overviewFragment(view(), stats, rows);
  };
  app.get('/', async (c) => c.html(overviewPage(view(), await overview())));
  app.get('/fragments/overview', async (c) => c.html(await overview()));

  let cachedSeries: { at: number; series: Promise<Series> } | undefined;
  app.get('/api/series', async (c) => {
    const now = stack.io.now();
    if (!cachedSeries || now - cachedSeries.at > 15_000) {
      cachedSeries = { at: now, series: gatherSeries(stack, options.metricsNamespace, now) };
      cachedSeries.series.catch(() => {
        cachedSeries = undefined;
      });
    }
    return c.json(await cachedSeries.series);
  });

  // ------------------------------------------------------------ jobs
  app.get('/jobs', async (c) => {
    const query: JobsQuery = {
      status: c.req.query('status') || undefined,
      type: c.req.query('type') || undefined,
      lane: c.req.query('lane') || undefined,
      since: c.req.query('since') || undefined,
      cursor: c.req.query('cursor') || undefined,
    };
    const config = await stack.config();
    if (!config.searchIndex) {
      return c.html(
        jobsPage(view(), query, {
          note: "Listing jobs needs the ledger's search index, which this queue does not have (JobQueue jobSearch: true). Looking a job up by id or key works without it.",
        }),
      );
    }
    if (query.status && !(JOB_STATUSES as readonly string[]).includes(query.status)) {
      throw fieldError('status', `one of ${JOB_STATUSES.join(', ')}`, query.status);
    }
    if (query.lane && !lanes.includes(query.lane))
      throw fieldError('lane', `one of ${lanes.join(', ')}`, query.lane);
    if (query.type && !isJobType(query.type))
      throw fieldError('type', `a job type: ${JOB_TYPE_RULE}`, query.type);
    const since = query.since ?? '24h';
    if (!Object.hasOwn(SINCE_CHOICES, since))
      throw fieldError('since', `one of ${Object.keys(SINCE_CHOICES).join(', ')}`, since);
    const seconds = SINCE_CHOICES[since];
    const client = await stack.jobClient();
    const page = await client.listJobs({
      status: query.status as JobStatus | undefined,
      type: query.type,
      lane: query.lane,
      since: seconds === undefined ? undefined : new Date(stack.io.now() - seconds * 1000),
      limit: 50,
      cursor: query.cursor,
    });
    return c.html(jobsPage(view(), query, { page }));
  });

  app.get('/jobs/lookup', async (c) => {
    const id = (c.req.query('id') ?? '').trim();
    const type = (c.req.query('type') ?? '').trim();
    const key = c.req.query('key') ?? '';
    let jobId: string;
    if (id) {
      if (type || key)
        throw new FormError(
          `Give a job id, or a job type with an idempotency key, not both; got id '${id}' and type '${type}' / key '${key}'`,
        );
      jobId = checkJobId(id);
    } else if (type || key) {
      if (!isJobType(type)) throw fieldError('Job type', `a job type: ${JOB_TYPE_RULE}`, type);
      if (!isIdempotencyKey(key)) throw fieldError('Idempotency key', IDEMPOTENCY_KEY_RULE, key);
      jobId = jobIdForKey(type, key);
    } else {
      throw new FormError('Give a job id, or a job type with the idempotency key it was enqueued with.');
    }
    return c.redirect(href(view(), `/jobs/${encodeURIComponent(jobId)}`), 303);
  });

  /** The job's ledger record; a record-less stand-in (no status) when the ledger has none yet. */
  const record = async (jobId: string): Promise<JobRecord> => {
    const client = await stack.jobClient();
    return (await client.getJob(checkJobId(jobId))) ?? { jobId, attempts: 0 };
  };
  app.get('/jobs/:id', async (c) => c.html(jobPage(view(), await record(c.req.param('id')))));
  app.get('/fragments/jobs/:id', async (c) => c.html(jobFragment(view(), await record(c.req.param('id')))));

  app.get('/jobs/:id/cancel', async (c) => {
    if (readOnly)
      return c.html(
        errorPage(view(), 'Read-only', 'This console runs with --read-only: it cancels nothing.'),
        403,
      );
    const r = await record(c.req.param('id'));
    const path = `/jobs/${encodeURIComponent(r.jobId)}`;
    return c.html(
      confirmPage(
        view(),
        {
          title: `Cancel job ${r.jobId}?`,
          consequences: [
            r.status
              ? `Job ${r.jobId} (${r.type ?? 'unknown type'}, lane ${r.lane ?? '?'}) is ${r.status}.`
              : `Job ${r.jobId} has no ledger record yet (an unkeyed job gets one when a consumer first claims it).`,
            r.status === 'RUNNING'
              ? 'It is running: its consumer is asked to stop, aborts the handler within one heartbeat and records CANCELLED, unless it finishes first.'
              : 'It will never run: its ledger status becomes CANCELLED, a one-time schedule holding it is deleted, and a delivery of it is acknowledged unrun.',
          ],
          action: `${path}/cancel`,
          fields: {},
          button: 'Cancel the job',
          danger: true,
          back: href(view(), path),
        },
        'jobs',
      ),
    );
  });
  app.post('/jobs/:id/cancel', async (c) => {
    const jobId = checkJobId(c.req.param('id'));
    const client = await stack.jobClient();
    const result = await client.cancel(jobId);
    log(`cancel ${jobId}: ${result.outcome} (${result.status})`);
    return done(c, {
      title: result.outcome === 'already-finished' ? 'Nothing to cancel' : 'Cancelled',
      lines: [result.message, `Ledger status now: ${result.status}.`],
      links: [['Open the job', href(view(), `/jobs/${encodeURIComponent(jobId)}`)]],
      active: 'jobs',
      ok: result.outcome !== 'already-finished',
    });
  });

  // ------------------------------------------------------------ DLQs
  app.get('/dlq/:lane', async (c) => {
    const job = (c.req.query('job') ?? '').trim();
    const find = job === '' ? undefined : checkJobId(job);
    const { lane, depth, items, scanned } = await readDlq(stack, c.req.param('lane'), dlqLimit, find);
    return c.html(
      dlqPage(
        view(),
        lane.name,
        depth,
        items,
        dlqLimit,
        find === undefined ? undefined : { id: find, scanned },
      ),
    );
  });

  app.get('/dlq/:lane/confirm', async (c) => {
    const lane = await stack.lane(c.req.param('lane'));
    const action = c.req.query('action') ?? '';
    const id = c.req.query('id') ?? '';
    const dlqPath = `/dlq/${encodeURIComponent(lane.name)}`;
    const back = href(view(), dlqPath);
    if (readOnly)
      return c.html(
        errorPage(view(), 'Read-only', 'This console runs with --read-only: it changes no queue.'),
        403,
      );
    const spec = Object.hasOwn(DLQ_ACTIONS, action) ? DLQ_ACTIONS[action as DlqAction] : undefined;
    if (!spec) throw fieldError('action', `one of ${Object.keys(DLQ_ACTIONS).join(', ')}`, action);
    if (spec.oneJob) checkJobId(id);
    return c.html(
      confirmPage(
        view(),
        {
          ...spec.confirm(lane.name, id),
          action: `${dlqPath}/${action}`,
          fields: spec.oneJob ? { id } : {},
          back,
        },
        'dlq',
      ),
    );
  });

  app.post('/dlq/:lane/retry', async (c) => {
    const form = await c.req.parseBody();
    const id = checkJobId(String(form.id ?? ''));
    const result = await retryDlqJob(stack, c.req.param('lane'), id);
    log(`dlq retry ${result.lane} ${result.jobId ?? id}: sent as ${result.messageId ?? '?'}`);
    const links: [string, string][] = [
      ['Back to the DLQ', href(view(), `/dlq/${encodeURIComponent(result.lane)}`)],
    ];
    if (result.jobId)
      links.unshift(['Follow the job', href(view(), `/jobs/${encodeURIComponent(result.jobId)}`)]);
    return done(c, {
      title: 'Retried',
      lines: [
        `Job ${result.jobId ?? id} was sent back to the ${result.lane} lane (message ${result.messageId ?? '?'}) and deleted from its DLQ.`,
        `Its ledger status is ${result.ledgerStatus ?? 'unknown'} until a consumer claims it.`,
      ],
      links,
      active: 'dlq',
    });
  });

  app.post('/dlq/:lane/delete', async (c) => {
    const form = await c.req.parseBody();
    const id = checkJobId(String(form.id ?? ''));
    const result = await deleteDlqJob(stack, c.req.param('lane'), id);
    log(`dlq delete ${result.lane} ${result.jobId ?? id}`);
    return done(c, {
      title: 'Deleted',
      lines: [
        `The message of job ${result.jobId ?? id} was deleted from the ${result.lane} DLQ. The ledger keeps it as DEAD.`,
      ],
      links: [['Back to the DLQ', href(view(), `/dlq/${encodeURIComponent(result.lane)}`)]],
      active: 'dlq',
    });
  });

  app.post('/dlq/:lane/redrive', async (c) => {
    const started = await startRedrive(stack, c.req.param('lane'));
    const lane = started.lane.name;
    log(
      `dlq redrive ${lane}: ${started.status}${started.status === 'RUNNING' ? ` (${started.handle})` : ''}`,
    );
    return done(c, {
      title: started.status === 'EMPTY' ? 'Nothing to redrive' : 'Redrive started',
      lines:
        started.status === 'EMPTY'
          ? [`The ${lane} DLQ is empty: nothing to redrive.`]
          : [
              `A move task (${started.handle ?? 'no handle'}) is moving about ${started.depth} message(s) from the ${lane} DLQ back to the lane.`,
            ],
      links: [
        ['Overview', href(view(), '/')],
        ['Back to the DLQ', href(view(), `/dlq/${encodeURIComponent(lane)}`)],
      ],
      active: 'dlq',
    });
  });

  app.post('/dlq/:lane/purge', async (c) => {
    const result = await purgeDlq(stack, c.req.param('lane'));
    log(`dlq purge ${result.lane}: about ${result.approximateMessages} message(s)`);
    return done(c, {
      title: 'Purged',
      lines: [
        `The ${result.lane} DLQ was purged (about ${result.approximateMessages} message(s)). The ledger keeps the jobs as DEAD.`,
      ],
      links: [['Back to the DLQ', href(view(), `/dlq/${encodeURIComponent(result.lane)}`)]],
      active: 'dlq',
    });
  });

  // A change answers with a redirect to its outcome (POST, redirect, GET): reloading the outcome
  // page, or a browser restoring its tabs, shows it again and changes nothing.
  const outcomes = new Map<string, Outcome>();
  function done(c: Context, outcome: Outcome): Response {
    const id = randomBytes(12).toString('base64url');
    outcomes.set(id, outcome);
    while (outcomes.size > KEPT_OUTCOMES) outcomes.delete(outcomes.keys().next().value as string);
    return c.redirect(href(view(), `/done/${id}`), 303);
  }
  app.get('/done/:id', (c) => {
    const o = outcomes.get(c.req.param('id'));
    if (!o) {
      return c.html(
        errorPage(
          view(),
          'Gone',
          `The console keeps the outcomes of its last ${KEPT_OUTCOMES} changes; this one is not among them.`,
        ),
        404,
      );
    }
    return c.html(resultPage(view(), o.title, o.lines, o.links, o.active, o.ok ?? true));
  });

  // ------------------------------------------------------------ schedules
  app.get('/schedules', async (c) => {
    const { scheduleGroup, schedules } = await listSchedules(stack, new Date(stack.io.now()));
    return c.html(schedulesPage(view(), scheduleGroup, schedules));
  });

  app.notFound((c) =>
    c.html(errorPage(view(), 'Not found', `The console has no page at ${c.req.path}.`), 404),
  );
  return app;
}

function checkJobId(id: string): string {
  if (id.trim() === '' || id.length > MAX_JOB_ID_LENGTH) {
    throw fieldError('Job id', `a job id or message id of 1-${MAX_JOB_ID_LENGTH} characters`, id);
  }
  if (id.startsWith(LIMIT_ITEM_PREFIX)) {
    throw fieldError(
      'Job id',
      `a job id (ids starting with '${LIMIT_ITEM_PREFIX}' name limiter items, not jobs)`,
      id,
    );
  }
  return id;
}

/**
 * The HTTP status for what an action threw: 404 for an unknown lane, job or stack; 400 for bad
 * input; 409 for a known conflict (a move task already running, a retry sent but not deleted); 502
 * for AWS refusing or failing; 500 for anything unexpected (a bug: logged).
 */
function describeError(
  error: unknown,
  stack: StackContext,
): { status: 400 | 404 | 409 | 500 | 502; message: string; hint?: string } {
  const known = error instanceof CliError || isJobsError(error);
  const cli = toCliError(error, stack.errorContext());
  const status =
    cli.exitCode === EXIT.notFound
      ? 404
      : cli.exitCode === EXIT.usage || cli.exitCode === EXIT.validation
        ? 400
        : cli.exitCode === EXIT.aws
          ? 502
          : known
            ? 409
            : 500;
  return { status, message: cli.message, hint: cli.hint };
}
