/**
 * The README's generated bench block: everything between the bench markers is replaced on each
 * run by bench/results.md (title dropped, headings demoted one level) followed by the hand-written
 * notes in bench/NOTES.md. Nothing outside the markers is touched, so the notes appear once.
 */
export const BENCH_START = '<!-- bench:start -->';
export const BENCH_END = '<!-- bench:end -->';

/** The README with its bench block replaced, or undefined when it has no (well-ordered) markers. */
export function withBenchBlock(readme: string, md: string, notes: string | undefined): string | undefined {
  const i = readme.indexOf(BENCH_START);
  const j = readme.indexOf(BENCH_END);
  if (i < 0 || j < i) return undefined;
  // The README section has its own heading: drop the title, demote the rest one level.
  const body = md
    .replace(/^# .*\n\n?/, '')
    .replace(/^## /gm, '### ')
    .replace(
      'Raw figures: `bench/results.json`.',
      'Raw figures: [`bench/results.json`](bench/results.json), tables: [`bench/results.md`](bench/results.md).',
    );
  const tail = notes === undefined ? '' : `\n${notes.trim()}\n`;
  return `${readme.slice(0, i + BENCH_START.length)}\n${body}${tail}${readme.slice(j)}`;
}
