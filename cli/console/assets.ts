/**
 * The console's static files: htmx and uPlot from their npm packages (dependencies of sqs-jobs, so
 * they are there wherever the CLI is installed; nothing is built or downloaded), and the console's
 * own small script and style sheet. Served from memory under /assets/.
 */
import { readFileSync } from 'node:fs';

export interface Asset {
  readonly type: string;
  readonly body: string;
}

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** The console's own script: draws the charts with uPlot and refreshes them. */
const CONSOLE_JS = `'use strict';
(function () {
  var box = document.getElementById('charts');
  if (!box || !window.uPlot) return;
  var url = box.getAttribute('data-series-url');
  var every = Number(box.getAttribute('data-refresh-ms')) || 30000;
  var note = document.getElementById('series-note');
  var charts = {};
  function draw(id, title, series, data, yRange) {
    var el = document.getElementById(id);
    if (!el) return;
    var width = Math.max(280, (el.clientWidth || 480) - 24);
    if (charts[id]) { charts[id].setData(data); return; }
    charts[id] = new window.uPlot({
      title: title, width: width, height: 180,
      series: [{}].concat(series),
      axes: [{}, { size: 50 }],
      scales: yRange ? { x: { time: true }, y: { range: yRange } } : { x: { time: true } },
    }, data, el);
  }
  function refresh() {
    fetch(url, { headers: { Accept: 'application/json' } })
      .then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) throw new Error(body.error || ('HTTP ' + r.status));
          return body;
        });
      })
      .then(function (s) {
        if (note) note.textContent = s.note || '';
        box.setAttribute('data-source', s.source);
        box.setAttribute('data-points', String(s.at.length));
        draw('chart-throughput', 'Finished per minute', [
          { label: 'succeeded', stroke: '#2f7d32', width: 2 },
          { label: 'failed', stroke: '#c62828', width: 2 },
        ], [s.at, s.succeeded, s.failed]);
        draw('chart-failures', 'Failure rate (%)', [
          { label: 'failure rate %', stroke: '#c62828', width: 2, spanGaps: false, points: { show: true, size: 6 } },
        ], [s.at, s.failureRate], [0, 100]);
      })
      .catch(function (e) { if (note) note.textContent = 'charts unavailable: ' + e.message; });
  }
  refresh();
  setInterval(refresh, every);
})();
`;

const CONSOLE_CSS = `
:root { --fg:#1d2329; --muted:#5f6b76; --line:#d9dee3; --bg:#f7f8fa; --ok:#2f7d32; --warn:#b26a00; --bad:#c62828; }
* { box-sizing: border-box; }
body { margin:0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display:flex; gap:1.5rem; align-items:center; padding:.6rem 1.2rem; background:#1d2329; color:#fff; }
header a { color:#cfd8dc; text-decoration:none; }
header a.active, header a:hover { color:#fff; text-decoration:underline; }
header .stack { margin-left:auto; color:#90a4ae; font-size:12px; }
header .ro { background: var(--warn); color:#fff; padding:.1rem .5rem; border-radius:3px; font-size:12px; }
main { padding: 1rem 1.2rem 3rem; max-width: 1200px; }
h1 { font-size: 20px; margin: .2rem 0 1rem; }
h2 { font-size: 16px; margin: 1.4rem 0 .5rem; }
table { border-collapse: collapse; width: 100%; background:#fff; border:1px solid var(--line); }
th, td { text-align:left; padding:.35rem .6rem; border-bottom:1px solid var(--line); vertical-align: top; }
th { background:#eef1f4; font-weight:600; font-size:12px; text-transform:uppercase; letter-spacing:.03em; color: var(--muted); }
td.num, th.num { text-align:right; font-variant-numeric: tabular-nums; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
pre { white-space: pre-wrap; word-break: break-all; background:#fff; border:1px solid var(--line); padding:.5rem; margin:.3rem 0; max-height: 20rem; overflow:auto; }
.badge { display:inline-block; padding:.05rem .45rem; border-radius:3px; font-size:12px; font-weight:600; background:#e0e0e0; }
.s-OK, .s-SUCCEEDED { background:#e3f1e4; color: var(--ok); }
.s-ALARM, .s-DEAD { background:#fde3e3; color: var(--bad); }
.s-INSUFFICIENT_DATA, .s-FAILED, .s-RUNNING { background:#fff1d6; color: var(--warn); }
.s-ENQUEUED, .s-CANCELLED, .s-NONE { background:#e8eaed; color: var(--muted); }
.muted { color: var(--muted); }
.charts { display:grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 1rem; }
.chart { background:#fff; border:1px solid var(--line); padding:.5rem; min-height: 220px; }
form.inline { display:inline; }
form.filters, form.lookup { display:flex; flex-wrap:wrap; gap:.6rem; align-items:end; background:#fff; border:1px solid var(--line); padding:.6rem; margin-bottom:1rem; }
label { display:flex; flex-direction:column; font-size:12px; color: var(--muted); gap:.15rem; }
input, select, button { font: inherit; padding:.25rem .45rem; }
button, .button { background:#1d2329; color:#fff; border:0; border-radius:3px; padding:.3rem .8rem; cursor:pointer; text-decoration:none; display:inline-block; }
button.danger, .button.danger { background: var(--bad); }
.button.secondary { background:#e8eaed; color: var(--fg); }
.notice { background:#fff; border-left: 4px solid var(--warn); padding:.6rem .8rem; margin: .6rem 0; }
.notice.ok { border-color: var(--ok); }
.notice.bad { border-color: var(--bad); }
.confirm { background:#fff; border:1px solid var(--line); padding:1rem; max-width: 720px; }
dl.kv { display:grid; grid-template-columns: max-content 1fr; gap:.25rem 1rem; background:#fff; border:1px solid var(--line); padding:.6rem; }
dl.kv dt { color: var(--muted); }
dl.kv dd { margin:0; word-break: break-all; }
.actions { display:flex; gap:.5rem; margin: .6rem 0; }
`;

/** Reads the files once; a missing dependency fails at start-up with the file it looked for. */
export function loadAssets(): ReadonlyMap<string, Asset> {
  const file = (id: string) => readFileSync(require.resolve(id), 'utf8');
  return new Map<string, Asset>([
    ['htmx.min.js', { type: JS, body: file('htmx.org/dist/htmx.min.js') }],
    ['uPlot.iife.min.js', { type: JS, body: file('uplot/dist/uPlot.iife.min.js') }],
    ['uPlot.min.css', { type: CSS, body: file('uplot/dist/uPlot.min.css') }],
    ['console.js', { type: JS, body: CONSOLE_JS }],
    ['console.css', { type: CSS, body: CONSOLE_CSS }],
  ]);
}
