import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BENCH_END, BENCH_START, withBenchBlock } from '../../../bench/lib/readme-block';

const ROOT = path.join(__dirname, '..', '..', '..');
const NOTES = fs.readFileSync(path.join(ROOT, 'bench', 'NOTES.md'), 'utf8');
const NOTES_HEADING = NOTES.split('\n')[0];
const MD = '# Benchmark results\n\nMeasured. Raw figures: `bench/results.json`.\n\n## Goals\n\n| a |\n';
const count = (text: string, what: string) => text.split(what).length - 1;

describe('withBenchBlock', () => {
  const readme = `# Title\n\n## Performance\n\n${BENCH_START}\nold block\n${BENCH_END}\n\n### After\n`;

  it('replaces only what is between the markers, notes last', () => {
    const out = withBenchBlock(readme, MD, NOTES) ?? '';
    expect(out.startsWith(`# Title\n\n## Performance\n\n${BENCH_START}\nMeasured.`)).toBe(true);
    expect(out).toContain('### Goals');
    expect(out).toContain('tables: [`bench/results.md`](bench/results.md)');
    expect(out).not.toContain('old block');
    expect(out.endsWith(`${NOTES.trim()}\n${BENCH_END}\n\n### After\n`)).toBe(true);
  });

  it('writes the notes once, however often it runs', () => {
    const once = withBenchBlock(readme, MD, NOTES) ?? '';
    const twice = withBenchBlock(once, MD, NOTES) ?? '';
    expect(twice).toBe(once);
    expect(count(twice, NOTES_HEADING)).toBe(1);
  });

  it('leaves a README without markers alone', () => {
    expect(withBenchBlock('# no markers\n', MD, NOTES)).toBeUndefined();
    expect(withBenchBlock(`${BENCH_END}\n${BENCH_START}\n`, MD, NOTES)).toBeUndefined();
  });

  it('the repository README holds the notes once, inside the bench block', () => {
    const actual = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(count(actual, NOTES_HEADING)).toBe(1);
    const block = actual.slice(actual.indexOf(BENCH_START), actual.indexOf(BENCH_END));
    expect(block).toContain(NOTES_HEADING);
  });
});
