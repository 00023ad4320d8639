/** The "how cost grows" table: units add up per feature, and dollars follow prices.ts. */
import { describe, expect, it } from 'vitest';
import { logsPerMillionUSD } from '../../../bench/cost-model';
import {
  type FeatureCostInput,
  featureCostRows,
  featureLabel,
  renderFeatureCostTable,
  storagePerMillionUSD,
  unitsWith,
  VOLUMES,
} from '../../../bench/feature-cost-table';

const u = (writeUnitsPerJob: number, readUnitsPerJob = 0) => ({ writeUnitsPerJob, readUnitsPerJob });
const modeUnits = (base: number, reads = 0) => ({
  base: u(base, reads),
  searchIndex: u(base + 3, reads),
  rateLimit: u(base + 1, reads),
  concurrencyLimit: u(base + 2, reads),
});
const input: FeatureCostInput = {
  lane: { name: 'high', fifo: false, batchSize: 10, memoryMb: 256, architecture: 'arm64' },
  units: { strict: modeUnits(2), optimistic: modeUnits(1, 1), none: modeUnits(0) },
  itemBytes: { strict: 300, optimistic: 300, none: 0 },
  logBytesPerJob: 30,
  fixedMonthlyUSD: { full: 30, lean: 4 },
  ttlSeconds: 30 * 86400,
  pitr: true,
};

describe('feature cost table', () => {
  it('adds each feature’s measured difference from the base to the base units', () => {
    // Act
    const all = unitsWith(modeUnits(2), ['searchIndex', 'rateLimit', 'concurrencyLimit']);

    // Assess
    expect(unitsWith(modeUnits(2), [])).toEqual(u(2));
    expect(unitsWith(modeUnits(2), ['searchIndex'])).toEqual(u(5));
    expect(all).toEqual(u(2 + 3 + 1 + 2));
  });

  it('prices strict with history only as ANCHORS.md does: ≈ $1.42 per million requests', () => {
    // Act
    const row = featureCostRows(input).find((r) => r.mode === 'strict' && r.features.length === 0);

    // Assess: SQS $0.12 + Lambda $0.0533 + 2 writes × $0.625
    expect(row?.perMillionUSD).toBeCloseTo(0.12 + 0.0533335 + 1.25, 6);
  });

  it('adds $0.625 per million for each extra write unit and $0.125 per read unit', () => {
    // Act
    const rows = featureCostRows(input);
    const strict = (features: string[]) =>
      rows.find((r) => r.mode === 'strict' && r.features.join() === features.join());

    // Assess
    const base = strict([])?.perMillionUSD ?? Number.NaN;
    expect(strict(['searchIndex'])?.perMillionUSD).toBeCloseTo(base + 3 * 0.625, 10);
    expect(strict(['rateLimit'])?.perMillionUSD).toBeCloseTo(base + 0.625, 10);
    const optimistic = rows.find((r) => r.mode === 'optimistic' && r.features.length === 0);
    expect(optimistic?.perMillionUSD).toBeCloseTo(0.12 + 0.0533335 + 0.625 + 0.125, 6);
  });

  it('adds logs and storage per million, and the fixed cost of each profile per month at 1 M, 10 M, 100 M', () => {
    // Act
    const row = featureCostRows(input).find((r) => r.mode === 'strict' && r.features.length === 0);

    // Assess
    const logs = logsPerMillionUSD(30, 10);
    const storage = storagePerMillionUSD(300, 30 * 86400, true);
    expect(row?.perMillionAllInUSD).toBeCloseTo((row?.perMillionUSD ?? 0) + logs + storage, 10);
    expect(row?.monthly.map((m) => m.jobsPerMonth)).toEqual([...VOLUMES]);
    for (const m of row?.monthly ?? []) {
      expect(m.fullUSD).toBeCloseTo((m.jobsPerMonth / 1e6) * (row?.perMillionAllInUSD ?? 0) + 30, 8);
      expect(m.fullUSD - m.leanUSD).toBeCloseTo(26, 8);
    }
  });

  it('stores 1 M items of 300 B for 30 days with PITR at $0.45 per GB-month', () => {
    // 30 days of a 730-hour month: 720/730 of the month's jobs are alive at once
    expect(storagePerMillionUSD(300, 30 * 86400, true)).toBeCloseTo(
      ((1e6 * (720 / 730) * 300) / 1024 ** 3) * 0.45,
      10,
    );
    expect(storagePerMillionUSD(0, 30 * 86400, true)).toBe(0);
  });

  it('renders one row per mode and feature set', () => {
    // Act
    const lines = renderFeatureCostTable(featureCostRows(input));

    // Assess: header, separator, 3 modes × 5 feature sets
    expect(lines).toHaveLength(2 + 15);
    expect(featureLabel('none', [])).toBe('no ledger item');
    expect(featureLabel('strict', ['searchIndex', 'rateLimit'])).toBe('+ search index + rate limit');
    expect(lines[2]).toMatch(/^\| strict \| status history \(always on\) \| 2\.00 \| 0\.00 \| \$1\.42 \|/);
  });
});
