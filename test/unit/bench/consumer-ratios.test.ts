/**
 * Part 1's headline ratio: per duplicate-rate row, the median of the per-run ratios (each taken
 * within one interleaved run), and the worst row of those medians.
 */
import { describe, expect, it } from 'vitest';
import {
  type ConsumerOverheadResult,
  medianRatios,
  overheadRatio,
  type RunRatios,
} from '../../../bench/consumer-overhead';

const run = (duplicateRate: number, strict: number, sameClient = 1): RunRatios => ({
  duplicateRate,
  strictP50Ratio: strict,
  optimisticP50Ratio: strict - 0.1,
  strictCpuRatio: strict,
  optimisticCpuRatio: strict,
  strictP50RatioSameClient: sameClient,
  strictCpuRatioSameClient: sameClient,
  powertoolsSameClientP50Ratio: 0.9,
  powertoolsSameClientCpuRatio: 0.9,
});

const result = (runs: RunRatios[]): ConsumerOverheadResult => ({
  engine: 'dynamodb-local',
  batchSize: 10,
  batchesPerScenario: 200,
  warmupBatches: 20,
  lane: 'high',
  env: {},
  scenarios: [],
  runs,
});

describe('medianRatios / overheadRatio', () => {
  it('takes each row median of the per-run ratios, so one outlying run decides nothing', () => {
    // Prepare: five runs at 0 % (one outlier at 1.3) and at 10 %
    const r = result([
      ...[0.9, 0.92, 1.3, 0.88, 0.91].map((x) => run(0, x)),
      ...[0.95, 0.97, 0.96, 0.99, 0.94].map((x) => run(0.1, x, 1.05)),
    ]);

    // Act
    const rows = medianRatios(r);

    // Assess
    expect(rows.map((x) => [x.duplicateRate, x.strictP50Ratio])).toEqual([
      [0, 0.91],
      [0.1, 0.96],
    ]);
    expect(rows[0].optimisticP50Ratio).toBeCloseTo(0.81);
  });

  it('reports the worst row, not the average, for the headline and for any other ratio', () => {
    // Prepare
    const r = result([
      ...[0.9, 0.9, 0.9].map((x) => run(0, x, 0.98)),
      ...[1.02, 1.01, 0.99].map((x) => run(0.01, x, 1.04)),
      ...[0.8, 0.8, 0.8].map((x) => run(0.1, x, 1.01)),
    ]);

    // Act
    const headline = overheadRatio(r);
    const sameClient = overheadRatio(r, (row) => row.strictP50RatioSameClient);

    // Assess
    expect(headline).toEqual({ value: 1.01, duplicateRate: 0.01 });
    expect(sameClient).toEqual({ value: 1.04, duplicateRate: 0.01 });
  });
});
