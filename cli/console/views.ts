/**
 * The console's pages, rendered on the server. Every value goes through hono's `html` template,
 * which escapes it: job payloads, DLQ bodies, error texts and schedule inputs are untrusted and
 * show as text. `raw` is used only for markup this file writes itself.
 */
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { ListJobsPage } from '../../lambdas/client/types';
import { JOB_STATUSES, type JobRecord } from '../../lambdas/shared/contract';
import type { DlqItem } from '../commands/dlq-list';
import type { ScheduleInfo } from '../commands/schedules';
import { duration } from '../render';
import type { LaneStats, Stats } from '../stats';

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export interface ViewContext {
  readonly token: string;
  readonly csrf: string;
  readonly readOnly: boolean;
  readonly stackName: string;
  /** Where the console talks to: `LocalStack http://127.0.0.1:4566` or `AWS us-east-1`. */
  readonly target: string;
  readonly lanes: readonly string[];
  readonly refreshSeconds: number;
  readonly now: () => number;
}

/** A console URL: the path, the token, then the given parameters (empty ones left out). */
export function href(
  ctx: ViewContext,
  path: string,
  params: Record<string, string | undefined> = {},
): string {
  const query = new URLSearchParams({ token: ctx.token });
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') query.set(k, v);
  return `${path}?${query.toString()}`;
}

const badge = (state: string | undefined) =>
  html`<span class="badge s-${(state ?? 'NONE').replace(/[^A-Z_]/g, '')}">${state ?? '-'}</span>`;

export function layout(ctx: ViewContext, title: string, active: string, body: Html): Html {
  const nav = (path: string, label: string, key: string) =>
    html`<a href="${href(ctx, path)}" class="${active === key ? 'active' : ''}">${label}</a>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="htmx-config" content='{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,"selfRequestsOnly":true}'>
<title>${title} · sqs-jobs console</title>
<link rel="stylesheet" href="${href(ctx, '/assets/uPlot.min.css')}">
<link rel="stylesheet" href="${href(ctx, '/assets/console.css')}">
<script src="${href(ctx, '/assets/htmx.min.js')}" defer></script>
<script src="${href(ctx, '/assets/uPlot.iife.min.js')}" defer></script>
<script src="${href(ctx, '/assets/console.js')}" defer></script>
</head>
<body>
<header>
  <strong>sqs-jobs</strong>
  ${nav('/', 'Overview', 'overview')}
  ${nav('/jobs', 'Jobs', 'jobs')}
  ${nav(`/dlq/${encodeURIComponent(ctx.lanes[0] ?? 'default')}`, 'Dead letters', 'dlq')}
  ${nav('/schedules', 'Schedules', 'schedules')}
  ${ctx.readOnly ? html`<span class="ro" title="started with --read-only: no retries, deletes, redrives, purges or cancels">read-only</span>` : ''}
  <span class="stack">stack ${ctx.stackName} · ${ctx.target}</span>
</header>
<main>
<h1>${title}</h1>
${body}
</main>
</body>
</html>`;
}

// ---------------------------------------------------------------- overview

export interface LaneRow extends LaneStats {
  readonly alarm: { state: string; firing: readonly string[]; count: number };
}

export function overviewPage(ctx: ViewContext, fragment: Html): Html {
  return layout(
    ctx,
    'Overview',
    'overview',
    html`${fragment}
<h2>Last hour</h2>
<div id="charts" class="charts" data-series-url="${href(ctx, '/api/series')}" data-refresh-ms="${Math.max(ctx.refreshSeconds, 15) * 1000}">
  <div class="chart" id="chart-throughput"></div>
  <div class="chart" id="chart-failures"></div>
</div>
<p class="muted" id="series-note"></p>`,
  );
}

/** The live part of the overview: htmx swaps it every `refreshSeconds`. */
export function overviewFragment(ctx: ViewContext, stats: Stats, lanes: readonly LaneRow[]): Html {
  const firing = stats.alarms.filter((a) => a.state === 'ALARM');
  return html`<section id="overview" hx-get="${href(ctx, '/fragments/overview')}" hx-trigger="every ${ctx.refreshSeconds}s" hx-swap="outerHTML">
<table id="lanes">
<thead><tr><th>Lane</th><th class="num">Visible</th><th class="num">In flight</th><th class="num">Delayed</th><th class="num">Oldest</th><th class="num">DLQ</th><th>Alarms</th></tr></thead>
<tbody>
${lanes.map(
  (l) => html`<tr data-lane="${l.lane}">
<td>${l.lane}${l.fifo ? html` <span class="muted">(fifo)</span>` : ''}</td>
<td class="num">${l.visible}</td><td class="num">${l.inFlight}</td><td class="num">${l.delayed}</td>
<td class="num">${l.oldestAgeSeconds === null ? html`<span class="muted" title="CloudWatch has no ApproximateAgeOfOldestMessage for this queue yet">-</span>` : duration(l.oldestAgeSeconds)}</td>
<td class="num"><a href="${href(ctx, `/dlq/${encodeURIComponent(l.lane)}`)}" class="dlq-depth">${l.dlq}</a></td>
<td>${badge(l.alarm.state === 'NONE' ? undefined : l.alarm.state)} <span class="muted">${l.alarm.count ? `${l.alarm.count} watching` : 'none watching'}</span>${l.alarm.firing.length ? html`<div class="muted">${l.alarm.firing.join(', ')}</div>` : ''}</td>
</tr>`,
)}
</tbody>
</table>
<h2>Alarms <span class="muted">${firing.length} firing of ${stats.alarms.length}</span></h2>
${
  firing.length === 0
    ? html`<p class="muted">${stats.alarms.length ? 'None firing.' : 'No alarms found for this stack.'}</p>`
    : html`<table id="alarms"><thead><tr><th>Alarm</th><th>State</th><th>Since</th><th>Reason</th></tr></thead><tbody>
${firing.map((a) => html`<tr><td>${a.name}</td><td>${badge(a.state)}</td><td>${a.updatedAt ?? '-'}</td><td>${a.reason ?? ''}</td></tr>`)}
</tbody></table>`
}
${stats.warnings.map((w) => html`<p class="notice">${w}</p>`)}
<p class="muted" id="updated">Updated ${new Date(ctx.now()).toISOString()}; refreshes every ${ctx.refreshSeconds} s.</p>
</section>`;
}

// ---------------------------------------------------------------- jobs

export interface JobsQuery {
  readonly status?: string;
  readonly type?: string;
  readonly lane?: string;
  readonly since?: string;
  readonly cursor?: string;
}

export const SINCE_CHOICES: Readonly<Record<string, number | undefined>> = {
  '15m': 15 * 60,
  '1h': 3600,
  '24h': 86_400,
  '7d': 7 * 86_400,
  all: undefined,
};

export function jobsPage(
  ctx: ViewContext,
  query: JobsQuery,
  list: { page?: ListJobsPage; note?: string },
  problem?: string,
): Html {
  const option = (value: string, label: string, selected: string | undefined) =>
    html`<option value="${value}" ${selected === value ? 'selected' : ''}>${label}</option>`;
  const lookup = html`<form class="lookup" method="get" action="/jobs/lookup">
<input type="hidden" name="token" value="${ctx.token}">
<label>Job id <input name="id" size="44" placeholder="0b6f1c2e-... or k-3f2a..."></label>
<span class="muted">or</span>
<label>Job type <input name="type" size="18"></label>
<label>Idempotency key <input name="key" size="22"></label>
<button type="submit">Look up</button>
</form>`;
  const filters = html`<form class="filters" method="get" action="/jobs">
<input type="hidden" name="token" value="${ctx.token}">
<label>Status <select name="status">${option('', 'any', query.status)}${JOB_STATUSES.map((s) => option(s, s, query.status))}</select></label>
<label>Type <input name="type" value="${query.type ?? ''}" size="18"></label>
<label>Lane <select name="lane">${option('', 'any', query.lane)}${ctx.lanes.map((l) => option(l, l, query.lane))}</select></label>
<label>Changed in the last <select name="since">${Object.keys(SINCE_CHOICES).map((s) => option(s, s, query.since ?? '24h'))}</select></label>
<button type="submit">List</button>
</form>`;
  const rows = list.page?.jobs ?? [];
  const table = list.page
    ? html`<table id="jobs"><thead><tr><th>Job id</th><th>Type</th><th>Lane</th><th>Status</th><th class="num">Attempts</th><th>Status since</th></tr></thead><tbody>
${rows.map(
  (j) =>
    html`<tr><td class="mono"><a href="${href(ctx, `/jobs/${encodeURIComponent(j.jobId)}`)}">${j.jobId}</a></td><td>${j.type ?? '-'}</td><td>${j.lane ?? '-'}</td><td>${badge(j.status)}</td><td class="num">${j.attempts}</td><td>${j.statusAt}</td></tr>`,
)}
${rows.length === 0 ? html`<tr><td colspan="6" class="muted">No jobs match.</td></tr>` : ''}
</tbody></table>
${list.page.cursor ? html`<p><a class="button secondary" href="${href(ctx, '/jobs', { ...query, cursor: list.page.cursor })}">Next page</a></p>` : ''}`
    : '';
  return layout(
    ctx,
    'Jobs',
    'jobs',
    html`${problem ? html`<p class="notice bad" id="problem">${problem}</p>` : ''}
<h2>Look up a job</h2>${lookup}
<h2>List jobs</h2>${filters}
${list.note ? html`<p class="notice">${list.note}</p>` : ''}
${table}`,
  );
}

const FINAL = new Set(['SUCCEEDED', 'CANCELLED']);
const CANCELLABLE = new Set(['ENQUEUED', 'RUNNING', 'FAILED', '']);

export function jobPage(ctx: ViewContext, record: JobRecord): Html {
  return layout(ctx, `Job ${record.jobId}`, 'jobs', jobFragment(ctx, record));
}

/** The job's details; polls itself until the job is finished. */
export function jobFragment(ctx: ViewContext, r: JobRecord): Html {
  // SUCCEEDED and CANCELLED are for good; a DEAD job may be retried from its DLQ, and a job with
  // no record yet may get one, so those keep polling, more slowly.
  const live = !FINAL.has(r.status ?? '');
  const every = r.status === 'DEAD' || r.status === undefined ? 5 : 2;
  const poll = live
    ? html` hx-get="${href(ctx, `/fragments/jobs/${encodeURIComponent(r.jobId)}`)}" hx-trigger="every ${every}s" hx-swap="outerHTML"`
    : '';
  const row = (k: string, v: unknown) =>
    v === undefined || v === null || v === ''
      ? ''
      : html`<dt>${k}</dt><dd>${typeof v === 'string' || typeof v === 'number' ? v : JSON.stringify(v)}</dd>`;
  const cancel =
    !ctx.readOnly && CANCELLABLE.has(r.status ?? '')
      ? html`<div class="actions"><a class="button danger" id="cancel" href="${href(ctx, `/jobs/${encodeURIComponent(r.jobId)}/cancel`)}">Cancel this job…</a></div>`
      : '';
  const dead =
    r.status === 'DEAD' && r.lane
      ? html`<p class="notice">This job is dead. Its message, unless it was retried, deleted or purged, is in the <a href="${href(ctx, `/dlq/${encodeURIComponent(r.lane)}`)}">${r.lane} DLQ</a>, where you can retry it.</p>`
      : '';
  const missing =
    r.status === undefined
      ? html`<p class="notice" id="no-record">No ledger record for job ${r.jobId} (yet). An unkeyed job gets one when a consumer first claims it, so a queued or delayed one has none; a wrong id has none either. Cancelling it records CANCELLED, and a delivery of it is then acknowledged unrun.</p>`
      : '';
  return html`<section id="job" data-status="${r.status ?? ''}"${poll}>
${missing}
<p>${badge(r.status)} ${r.status === 'RUNNING' && r.cancelRequestedAt ? html`<span class="muted">cancel requested at ${r.cancelRequestedAt}: it stops at its next heartbeat</span>` : ''}${live ? html` <span class="muted">(updates every ${every} s)</span>` : ''}</p>
${dead}${cancel}
<dl class="kv">
${row('Job id', r.jobId)}${row('Type', r.type)}${row('Lane', r.lane)}${row('Attempts', r.attempts)}
${row('Enqueued', r.enqueuedAt)}${row('Started', r.startedAt)}${row('Finished', r.finishedAt)}${row('Updated', r.updatedAt)}
${row('Lease until', r.leaseUntil === undefined ? undefined : new Date(r.leaseUntil).toISOString())}
${row('Tenant', r.tenant)}${row('Group', r.group)}
${row('Progress', r.progress)}
${row('Expires', r.expiresAt === undefined ? undefined : new Date(r.expiresAt * 1000).toISOString())}
</dl>
${r.lastError ? html`<h2>Last error</h2><pre id="last-error">${r.lastError}</pre>` : ''}
${r.result !== undefined ? html`<h2>Result</h2><pre id="result">${JSON.stringify(r.result, null, 2)}</pre>` : ''}
${
  r.history?.length
    ? html`<h2>History <span class="muted">(last ${r.history.length}, oldest first)</span></h2>
<table id="history"><thead><tr><th>At</th><th>Status</th><th class="num">Attempt</th></tr></thead><tbody>
${r.history.map((e) => html`<tr><td>${e.at}</td><td>${badge(e.status)}</td><td class="num">${e.attempt ?? '-'}</td></tr>`)}
</tbody></table>`
    : ''
}
</section>`;
}

// ---------------------------------------------------------------- DLQs

export function dlqPage(
  ctx: ViewContext,
  lane: string,
  depth: number,
  items: readonly DlqItem[],
  limit: number,
  find?: { readonly id: string; readonly scanned: number },
): Html {
  const tabs = html`<p>${ctx.lanes.map((l) =>
    l === lane
      ? html`<strong>${l}</strong> `
      : html`<a href="${href(ctx, `/dlq/${encodeURIComponent(l)}`)}">${l}</a> `,
  )}</p>`;
  const laneActions =
    ctx.readOnly || depth === 0
      ? ''
      : html`<div class="actions">
<a class="button" id="redrive" href="${href(ctx, `/dlq/${encodeURIComponent(lane)}/confirm`, { action: 'redrive' })}">Redrive all…</a>
<a class="button danger" id="purge" href="${href(ctx, `/dlq/${encodeURIComponent(lane)}/confirm`, { action: 'purge' })}">Purge…</a>
</div>`;
  const rowActions = (m: DlqItem) => {
    if (ctx.readOnly) return '';
    const id = m.jobId ?? m.messageId;
    return html`<a class="button retry" href="${href(ctx, `/dlq/${encodeURIComponent(lane)}/confirm`, { action: 'retry', id })}">Retry…</a>
<a class="button danger delete" href="${href(ctx, `/dlq/${encodeURIComponent(lane)}/confirm`, { action: 'delete', id })}">Delete…</a>`;
  };
  return layout(
    ctx,
    `Dead letters: ${lane}`,
    'dlq',
    html`${tabs}
<form class="lookup" method="get" action="/dlq/${lane}">
<input type="hidden" name="token" value="${ctx.token}">
<label>Find a job in this DLQ <input name="job" size="44" value="${find?.id ?? ''}" placeholder="job id or SQS message id"></label>
<button type="submit" id="find">Find</button>
${find ? html`<a class="button secondary" href="${href(ctx, `/dlq/${encodeURIComponent(lane)}`)}">Show all</a>` : ''}
</form>
<p>About <strong id="dlq-depth">${depth}</strong> message(s) in the ${lane} DLQ; ${
      find
        ? `${items.length ? 'found' : 'not found'} after looking at ${find.scanned} message(s)`
        : `${items.length} shown (at most ${limit})`
    }. Reading them leaves the DLQ as it was.</p>
${laneActions}
<table id="dlq"><thead><tr><th>Job</th><th>Type</th><th class="num">Attempts</th><th>Reason</th><th>First failure</th><th>Last failure</th><th></th></tr></thead><tbody>
${items.map(
  (m) => html`<tr data-job-id="${m.jobId ?? ''}" data-message-id="${m.messageId}">
<td class="mono">${m.jobId ? html`<a href="${href(ctx, `/jobs/${encodeURIComponent(m.jobId)}`)}">${m.jobId}</a>` : html`<span class="muted">message ${m.messageId}</span>`}</td>
<td>${m.type ?? '-'}</td><td class="num">${m.attempts ?? '-'}</td>
<td>${m.error ?? (m.malformed ? `unreadable body: ${m.malformed}` : '-')}${m.ledgerStatus ? html`<div class="muted">ledger: ${m.ledgerStatus}</div>` : ''}
<details><summary class="muted">body</summary><pre class="body">${m.body}</pre></details></td>
<td>${m.firstFailedAt ?? '-'}</td><td>${m.lastFailedAt ?? '-'}</td>
<td>${rowActions(m)}</td>
</tr>`,
)}
${items.length === 0 ? html`<tr><td colspan="7" class="muted">The DLQ is empty.</td></tr>` : ''}
</tbody></table>`,
  );
}

// ---------------------------------------------------------------- confirmations and results

export interface Confirmation {
  readonly title: string;
  /** What will happen, in full sentences. */
  readonly consequences: readonly string[];
  readonly action: string;
  readonly fields: Readonly<Record<string, string>>;
  readonly button: string;
  readonly danger: boolean;
  readonly back: string;
}

export function confirmPage(ctx: ViewContext, c: Confirmation, active: string): Html {
  return layout(
    ctx,
    c.title,
    active,
    html`<div class="confirm" id="confirmation">
${c.consequences.map((text) => html`<p>${text}</p>`)}
<form method="post" action="${href(ctx, c.action)}" class="actions">
<input type="hidden" name="csrf" value="${ctx.csrf}">
${Object.entries(c.fields).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
<button type="submit" id="confirm" class="${c.danger ? 'danger' : ''}">${c.button}</button>
<a class="button secondary" href="${c.back}">Cancel</a>
</form>
</div>`,
  );
}

export function resultPage(
  ctx: ViewContext,
  title: string,
  lines: readonly string[],
  links: readonly (readonly [string, string])[],
  active: string,
  ok = true,
): Html {
  return layout(
    ctx,
    title,
    active,
    html`<div class="notice ${ok ? 'ok' : 'bad'}" id="outcome">${lines.map((l) => html`<p>${l}</p>`)}</div>
<p class="actions">${links.map(([label, url]) => html`<a class="button secondary" href="${url}">${label}</a>`)}</p>`,
  );
}

export function errorPage(ctx: ViewContext, title: string, message: string, hint?: string): Html {
  return layout(
    ctx,
    title,
    '',
    html`<div class="notice bad" id="error"><p>${message}</p>${hint ? html`<p class="muted">${hint}</p>` : ''}</div>
<p><a class="button secondary" href="${href(ctx, '/')}">Overview</a></p>`,
  );
}

// ---------------------------------------------------------------- schedules

/** `2026-12-03 02:00 CET` in the schedule's own time zone. */
export function inZone(iso: string, timeZone: string): string {
  try {
    const parts = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    }).formatToParts(new Date(iso));
    const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
    return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')} ${get('timeZoneName')}`;
  } catch {
    return iso;
  }
}

export function schedulesPage(ctx: ViewContext, group: string, schedules: readonly ScheduleInfo[]): Html {
  const now = ctx.now();
  return layout(
    ctx,
    'Schedules',
    'schedules',
    html`<p>Schedule group <code>${group}</code>: cron and rate schedules, and the one-time schedules that hold jobs delayed over 15 minutes. Times are in each schedule's own time zone.</p>
<table id="schedules"><thead><tr><th>Name</th><th>State</th><th>Expression</th><th>Time zone</th><th>Lane</th><th>Job type</th><th>Next firings</th></tr></thead><tbody>
${schedules.map(
  (s) => html`<tr data-schedule="${s.name}">
<td class="mono">${s.name}</td><td>${s.state ?? '-'}</td><td class="mono">${s.expression ?? '-'}</td><td>${s.timezone}</td><td>${s.lane ?? '-'}</td><td>${s.jobType ?? '-'}</td>
<td>${
    s.upcoming?.length
      ? html`<ol class="firings">${s.upcoming.map((t) => html`<li><time datetime="${t}">${inZone(t, s.timezone)}</time> <span class="muted">in ${duration((Date.parse(t) - now) / 1000)}</span></li>`)}</ol>`
      : html`<span class="muted">${s.note ?? 'none'}</span>`
  }</td>
</tr>`,
)}
${schedules.length === 0 ? html`<tr><td colspan="7" class="muted">No schedules in this group.</td></tr>` : ''}
</tbody></table>`,
  );
}
