/** Plain-text tables for people, JSON for scripts. No colours: output is often piped or logged. */

export type Cell = string | number | boolean | null | undefined;

/** Columns padded to the widest cell; `undefined`/`null` print as `-`. Numbers align right. */
export function table(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = rows.map((row) => headers.map((_, i) => cellText(row[i])));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((row) => row[i].length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((row) => isNumeric(row[i])));
  const line = (cells: readonly string[], header = false) =>
    cells
      .map((cell, i) => (!header && numeric[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return `${[line(headers, true), ...text.map((row) => line(row))].join('\n')}\n`;
}

/** `key  value` lines for one record. */
export function keyValues(entries: readonly (readonly [string, Cell])[]): string {
  const width = Math.max(...entries.map(([k]) => k.length));
  return `${entries.map(([k, v]) => `${k.padEnd(width)}  ${cellText(v)}`).join('\n')}\n`;
}

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** 42s, 5m 3s, 2h 10m, 3d 4h. */
export function duration(seconds: number | undefined | null): string {
  if (seconds === undefined || seconds === null || !Number.isFinite(seconds)) return '-';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

/** `[##########----------]  5/10 (50%)` */
export function progressBar(done: number, total: number, width = 30): string {
  const ratio = total > 0 ? Math.min(1, Math.max(0, done / total)) : done > 0 ? 1 : 0;
  const filled = Math.round(ratio * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} (${Math.round(ratio * 100)}%)`;
}

/** One line, at most `max` characters. */
export function clip(text: string | undefined, max: number): string | undefined {
  if (text === undefined) return undefined;
  const flat = text.replace(/\s+/g, ' ');
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

function cellText(value: Cell): string {
  if (value === undefined || value === null || value === '') return '-';
  return String(value);
}

function isNumeric(value: Cell): boolean {
  return typeof value === 'number' || value === undefined || value === null;
}
