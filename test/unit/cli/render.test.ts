import { describe, expect, it } from 'vitest';
import { debounceText, renderRecord } from '../../../cli/commands/status';
import { clip, duration, keyValues, progressBar, table } from '../../../cli/render';
import { renderStats, type Stats } from '../../../cli/stats';

describe('rendering', () => {
  it('pads table columns, right-aligns numbers and prints missing cells as -', () => {
    // Act
    const text = table(
      ['LANE', 'VISIBLE', 'NOTE'],
      [
        ['high', 3, 'ok'],
        ['default', 120, undefined],
      ],
    );

    // Assess
    expect(text).toBe(
      ['LANE     VISIBLE  NOTE', 'high           3  ok', 'default      120  -', ''].join('\n'),
    );
  });

  it('prints key/value records aligned', () => {
    expect(
      keyValues([
        ['a', 1],
        ['long key', 'x'],
        ['none', undefined],
      ]),
    ).toBe('a         1\nlong key  x\nnone      -\n');
  });

  it.each([
    [0, '0s'],
    [59.4, '59s'],
    [61, '1m 1s'],
    [3 * 3600 + 120, '3h 2m'],
    [90_000, '1d 1h'],
    [undefined, '-'],
  ])('duration(%s) = %s', (seconds, text) => {
    expect(duration(seconds)).toBe(text);
  });

  it('draws a progress bar, also for an unknown total', () => {
    expect(progressBar(5, 10, 10)).toBe('[#####-----] 5/10 (50%)');
    expect(progressBar(0, 0, 4)).toBe('[----] 0/0 (0%)');
    expect(progressBar(12, 10, 4)).toBe('[####] 12/10 (100%)');
  });

  it('clips long, multi-line text to one line', () => {
    expect(clip('a\nb   c', 10)).toBe('a b c');
    expect(clip('abcdefghijkl', 5)).toBe('abcd…');
  });

  it('renders a ledger record with lease, result and TTL as readable values', () => {
    // Act
    const text = renderRecord({
      jobId: 'j1',
      type: 'flaky-task',
      status: 'RUNNING',
      attempts: 2,
      leaseUntil: Date.parse('2026-03-01T12:00:00Z'),
      leaseOwner: 'o-1',
      result: { ok: true },
      progress: 40,
      expiresAt: 1_800_000_000,
    });

    // Assess
    expect(text).toMatch(/^status\s+RUNNING$/m);
    expect(text).toMatch(/^lease\s+until 2026-03-01T12:00:00.000Z \(owner o-1\)$/m);
    expect(text).toMatch(/^result\s+\{"ok":true\}$/m);
    expect(text).toMatch(/^progress\s+40$/m);
    expect(text).toMatch(/^expiresAt\s+2027-01-15T08:00:00.000Z$/m);
    expect(text).toMatch(/^lastError\s+-$/m);
  });

  it('renders stats with firing alarms counted and warnings listed', () => {
    // Prepare
    const stats: Stats = {
      stack: 'S',
      at: '2026-03-01T12:00:00.000Z',
      lanes: [
        { lane: 'high', fifo: false, visible: 1, inFlight: 2, delayed: 0, oldestAgeSeconds: 75, dlq: 3 },
        { lane: 'ordered', fifo: true, visible: 0, inFlight: 0, delayed: 0, oldestAgeSeconds: null, dlq: 0 },
      ],
      alarms: [
        {
          name: 'S-high-dlq',
          state: 'ALARM',
          reason: 'Threshold crossed',
          updatedAt: '2026-03-01T11:59:00.000Z',
        },
        { name: 'S-high-depth', state: 'OK', reason: 'fine', updatedAt: '2026-03-01T11:00:00.000Z' },
      ],
      warnings: ['age of oldest message unavailable: nope'],
    };

    // Act
    const text = renderStats(stats);

    // Assess
    expect(text).toMatch(/^high\s+1\s+2\s+0\s+1m 15s\s+3$/m);
    expect(text).toMatch(/^ordered \(fifo\)\s+0\s+0\s+0\s+-\s+0$/m);
    expect(text).toMatch(/alarms: 1 firing of 2 \(1 ALARM, 1 OK\)/);
    expect(text).toMatch(/S-high-dlq\s+ALARM/);
    expect(text).not.toMatch(/S-high-depth/);
    expect(text).toMatch(/warning: age of oldest message unavailable/);
  });

  it('puts the Limits section between the lanes and the alarms, and leaves it out without limits', () => {
    // Prepare
    const base: Stats = {
      stack: 'S',
      at: '2026-03-01T12:00:00.000Z',
      lanes: [
        { lane: 'high', fifo: false, visible: 0, inFlight: 0, delayed: 0, oldestAgeSeconds: null, dlq: 0 },
      ],
      alarms: [],
      warnings: [],
    };
    const limits: Stats['limits'] = [
      {
        type: 'sync',
        kind: 'rate',
        limit: '10 per 60 s',
        perKey: false,
        state: 'full (10 tokens)',
        settings: { limit: 10, perSeconds: 60 },
        tokens: 10,
      },
      {
        type: 'sync',
        kind: 'concurrency',
        limit: 'at most 3 at once',
        perKey: true,
        state: null,
        settings: { limit: 3 },
      },
    ];

    // Act
    const withLimits = renderStats({ ...base, limits });
    const without = renderStats({ ...base, limits: [] });

    // Assess
    expect(withLimits).toMatch(/^high .*\n\nLimits:\nTYPE +LIMIT +SCOPE +NOW\n/m);
    expect(withLimits).toMatch(/^sync +10 per 60 s +whole type +full \(10 tokens\)$/m);
    expect(withLimits).toMatch(/^sync +at most 3 at once +per key +\(one per key\)$/m);
    expect(withLimits.indexOf('Limits:')).toBeLessThan(withLimits.indexOf('alarms:'));
    expect(without).not.toMatch(/Limits/);
    expect(without).toBe(renderStats(base));
  });

  it('describes a debounce window by the enqueue that runs', () => {
    expect(debounceText({ seq: 1, failed: [] })).toBe('window job: 1 enqueue folded in, latest 1');
    expect(debounceText({ seq: 4, failed: [4, 3] })).toBe(
      'window job: 4 enqueues folded in, latest 2 (send failed: 3, 4)',
    );
    expect(debounceText({ seq: 1, failed: [1] })).toBe(
      'window job: 1 enqueue folded in, none sent (send failed: 1)',
    );
  });
});
