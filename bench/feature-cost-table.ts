/**
 * "How cost grows": cost per million jobs and the monthly bill at 1 M, 10 M and 100 M jobs for each
 * ledger mode, alone and with each ledger feature, from request units measured on DynamoDB Local
 * (./feature-costs.ts) and the prices in ./prices.ts. Pure arithmetic, checked by
 * test/unit/bench/feature-cost-table.test.ts.
 */
import { type LaneShape, type LedgerMode, logsPerMillionUSD, perMillionJobs } from './cost-model';
import { ASSUMPTIONS, PRICES } from './prices';

/** Ledger features whose request units are measured on their own (history is always on). */
export const LEDGER_FEATURES = ['base', 'searchIndex', 'rateLimit', 'concurrencyLimit'] as const;
export type LedgerFeature = (typeof LEDGER_FEATURES)[number];

export const VOLUMES = [1e6, 1e7, 1e8] as const;

/** Request units per job of one measured scenario. */
export interface Units {
  readonly writeUnitsPerJob: number;
  readonly readUnitsPerJob: number;
}

/** What the table is made of: measured units, the lane, log bytes and the fixed monthly costs. */
export interface FeatureCostInput {
  readonly lane: LaneShape;
  readonly units: Readonly<Record<LedgerMode, Readonly<Record<LedgerFeature, Units>>>>;
  /** Ledger item size after a job finished, bytes (for storage), by mode; 0 for `none`. */
  readonly itemBytes: Readonly<Record<LedgerMode, number>>;
  /** Consumer log bytes per job at the stack's log level. */
  readonly logBytesPerJob: number;
  /** Fixed monthly cost by monitoring profile (idle polling, alarms, dashboards, custom metrics, schedules). */
  readonly fixedMonthlyUSD: { readonly full: number; readonly lean: number };
  /** Ledger item TTL, seconds (storage holds jobs/month × TTL items). */
  readonly ttlSeconds?: number;
  readonly pitr?: boolean;
}

/** One row: a ledger mode with a set of features. */
export interface FeatureCostRow {
  readonly mode: LedgerMode;
  /** Features on top of the mode (history is always on), e.g. `['searchIndex']`. */
  readonly features: readonly LedgerFeature[];
  readonly writeUnitsPerJob: number;
  readonly readUnitsPerJob: number;
  /** SQS + Lambda + DynamoDB requests (the ANCHORS.md definition). */
  readonly perMillionUSD: number;
  /** The same plus CloudWatch Logs ingestion and ledger storage. */
  readonly perMillionAllInUSD: number;
  /** The monthly bill at each of VOLUMES, with the full and the lean monitoring profile. */
  readonly monthly: readonly {
    readonly jobsPerMonth: number;
    readonly fullUSD: number;
    readonly leanUSD: number;
  }[];
}

/** The feature sets the table shows per mode: each feature alone, then all of them. */
export const FEATURE_SETS: readonly (readonly LedgerFeature[])[] = [
  [],
  ['searchIndex'],
  ['rateLimit'],
  ['concurrencyLimit'],
  ['searchIndex', 'rateLimit', 'concurrencyLimit'],
];

/**
 * Units of a mode with features: the base units plus each feature's measured difference from the
 * base (features write different items, or different attributes of one write, so they add up).
 */
export function unitsWith(
  units: Readonly<Record<LedgerFeature, Units>>,
  features: readonly LedgerFeature[],
): Units {
  const base = units.base;
  let w = base.writeUnitsPerJob;
  let r = base.readUnitsPerJob;
  for (const feature of features) {
    w += Math.max(0, units[feature].writeUnitsPerJob - base.writeUnitsPerJob);
    r += Math.max(0, units[feature].readUnitsPerJob - base.readUnitsPerJob);
  }
  return { writeUnitsPerJob: w, readUnitsPerJob: r };
}

/** Ledger storage per million jobs a month: items live for the TTL after their last write. */
export function storagePerMillionUSD(itemBytes: number, ttlSeconds: number, pitr: boolean): number {
  const months = Math.min(1, ttlSeconds / (ASSUMPTIONS.hoursPerMonth * 3600));
  const gb = (1e6 * months * itemBytes) / 1024 ** 3;
  return gb * (PRICES.dynamodb.storagePerGbMonth + (pitr ? PRICES.dynamodb.pitrPerGbMonth : 0));
}

export function featureCostRows(input: FeatureCostInput): FeatureCostRow[] {
  const { lane } = input;
  const rows: FeatureCostRow[] = [];
  const logs = logsPerMillionUSD(input.logBytesPerJob, lane.batchSize);
  for (const mode of Object.keys(input.units) as LedgerMode[]) {
    // SQS and Lambda do not depend on the ledger: the model's figures for the lane.
    const base = perMillionJobs({
      batchSize: lane.batchSize,
      memoryMb: lane.memoryMb,
      architecture: lane.architecture,
      mode,
      fifo: lane.fifo,
    });
    const storage = storagePerMillionUSD(
      input.itemBytes[mode] ?? 0,
      input.ttlSeconds ?? 30 * 86400,
      input.pitr ?? true,
    );
    for (const features of FEATURE_SETS) {
      const u = unitsWith(input.units[mode], features);
      const dynamodb =
        u.writeUnitsPerJob * PRICES.dynamodb.perMillionWriteUnits +
        u.readUnitsPerJob * PRICES.dynamodb.perMillionReadUnits;
      const perMillionUSD = base.sqsUSD + base.lambdaUSD + dynamodb;
      const perMillionAllInUSD = perMillionUSD + logs + storage;
      rows.push({
        mode,
        features,
        writeUnitsPerJob: u.writeUnitsPerJob,
        readUnitsPerJob: u.readUnitsPerJob,
        perMillionUSD,
        perMillionAllInUSD,
        monthly: VOLUMES.map((jobsPerMonth) => ({
          jobsPerMonth,
          fullUSD: (jobsPerMonth / 1e6) * perMillionAllInUSD + input.fixedMonthlyUSD.full,
          leanUSD: (jobsPerMonth / 1e6) * perMillionAllInUSD + input.fixedMonthlyUSD.lean,
        })),
      });
    }
  }
  return rows;
}

const FEATURE_LABEL: Record<LedgerFeature, string> = {
  base: 'status history',
  searchIndex: 'search index',
  rateLimit: 'rate limit',
  concurrencyLimit: 'concurrency limit',
};

export function featureLabel(mode: LedgerMode, features: readonly LedgerFeature[]): string {
  if (features.length === 0) return mode === 'none' ? 'no ledger item' : 'status history (always on)';
  return `+ ${features.map((f) => FEATURE_LABEL[f]).join(' + ')}`;
}

/** The table as Markdown: one row per mode and feature set. */
export function renderFeatureCostTable(rows: readonly FeatureCostRow[]): string[] {
  const money = (n: number) => (n >= 100 ? `$${n.toFixed(0)}` : `$${n.toFixed(2)}`);
  const out = [
    '| ledger mode | features | write units/job | read units/job | $/M jobs | $/M all in (logs, storage) | 1 M/month full · lean | 10 M/month full · lean | 100 M/month full · lean |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    out.push(
      `| ${r.mode} | ${featureLabel(r.mode, r.features)} | ${r.writeUnitsPerJob.toFixed(2)} | ${r.readUnitsPerJob.toFixed(2)} | ${money(r.perMillionUSD)} | ${money(r.perMillionAllInUSD)} | ${r.monthly.map((m) => `${money(m.fullUSD)} · ${money(m.leanUSD)}`).join(' | ')} |`,
    );
  }
  return out;
}
