/**
 * What a chaos run enqueues: a deterministic plan (seeded) of jobs over every chaos job type,
 * every lane, keyed and unkeyed, single and batch enqueues, short and long delays, and producers
 * that die between the ledger write and the send.
 */
import { seeded } from '../lib/stats';

export const CHAOS_KINDS = [
  'succeed',
  'optimistic',
  'flaky',
  'poison',
  'permanent',
  'timeout',
  'abort',
  'crash',
  'duplicate',
  'ordered',
] as const;
export type ChaosKind = (typeof CHAOS_KINDS)[number];

/** Share of the jobs per kind (normalised; every kind gets at least one job). */
export const DEFAULT_MIX: Readonly<Record<ChaosKind, number>> = {
  succeed: 40,
  optimistic: 6,
  flaky: 15,
  poison: 3,
  permanent: 3,
  timeout: 1,
  abort: 2,
  crash: 0.5,
  duplicate: 5,
  ordered: 10,
};

/** Kinds that end DEAD in their lane's DLQ; every other kind must end SUCCEEDED. */
export const DEAD_KINDS: ReadonlySet<ChaosKind> = new Set(['poison', 'permanent']);
/** Kinds whose job type declares strict idempotency (a second counted run is a double run). */
export const STRICT_KINDS: ReadonlySet<ChaosKind> = new Set(CHAOS_KINDS.filter((k) => k !== 'optimistic'));
/** The error type a DEAD kind's DLQ message must carry. */
export const DEAD_REASON: Readonly<Partial<Record<ChaosKind, string>>> = {
  poison: 'AttemptsExhaustedError',
  permanent: 'PermanentJobError',
};

export const STANDARD_LANES = ['high', 'default', 'low'] as const;
export const FIFO_LANE = 'ordered';
export const ALL_LANES = [...STANDARD_LANES, FIFO_LANE] as const;

/** Above this a delay goes through EventBridge Scheduler (the stand-in on LocalStack). */
export const LONG_DELAY_SECONDS = 1200;

export interface PlannedJob {
  readonly index: number;
  readonly kind: ChaosKind;
  readonly type: `chaos-${ChaosKind}`;
  readonly lane: string;
  readonly payload: Record<string, unknown>;
  /** Idempotency key, for keyed jobs. */
  readonly key?: string;
  readonly delaySeconds: number;
  /** `batch` jobs go through enqueueBatch with their neighbours, `single` through enqueue. */
  readonly via: 'single' | 'batch';
  /** Keyed jobs whose first producer dies after the ledger write, before the send. */
  readonly producerDies: boolean;
  readonly groupId?: string;
  readonly expect: 'SUCCEEDED' | 'DEAD';
}

export interface PlanOptions {
  readonly jobs: number;
  readonly run: string;
  readonly seed?: number;
  readonly mix?: Readonly<Record<ChaosKind, number>>;
  /** Share of jobs with an idempotency key. @default 0.4 */
  readonly keyedShare?: number;
  /** Share of keyed (non-FIFO, delayed at most 10 s) jobs whose producer dies. @default 0.03 */
  readonly producerDeathShare?: number;
  /** Share of jobs delayed 1-10 s. @default 0.08 */
  readonly shortDelayShare?: number;
  /** Share of jobs delayed 20-60 minutes (past SQS's 15, so scheduled). @default 0.02 */
  readonly longDelayShare?: number;
  /** Share of jobs sent through enqueueBatch. @default 0.6 */
  readonly batchShare?: number;
}

/** Jobs per kind: largest-remainder split of `total` by `mix`, at least one of each. */
export function countsByKind(
  total: number,
  mix: Readonly<Record<ChaosKind, number>>,
): Record<ChaosKind, number> {
  if (!Number.isInteger(total) || total < CHAOS_KINDS.length) {
    throw new RangeError(
      `jobs must be an integer of at least ${CHAOS_KINDS.length} (one per kind), got ${total}`,
    );
  }
  const weight = CHAOS_KINDS.reduce((sum, kind) => sum + mix[kind], 0);
  const rest = total - CHAOS_KINDS.length;
  const exact = CHAOS_KINDS.map((kind) => (rest * mix[kind]) / weight);
  const counts = exact.map((x) => Math.floor(x));
  let left = rest - counts.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => ({ i, frac: x - Math.floor(x) })).sort((a, b) => b.frac - a.frac);
  for (const { i } of order) {
    if (left-- <= 0) break;
    counts[i]++;
  }
  return Object.fromEntries(CHAOS_KINDS.map((kind, i) => [kind, counts[i] + 1])) as Record<ChaosKind, number>;
}

export function planJobs(options: PlanOptions): PlannedJob[] {
  const random = seeded(options.seed ?? 1);
  const counts = countsByKind(options.jobs, options.mix ?? DEFAULT_MIX);
  const kinds: ChaosKind[] = CHAOS_KINDS.flatMap((kind) => Array<ChaosKind>(counts[kind]).fill(kind));
  // Shuffle (Fisher-Yates) so every kind is spread over the whole run.
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j], kinds[i]];
  }
  const keyedShare = options.keyedShare ?? 0.4;
  const deathShare = options.producerDeathShare ?? 0.03;
  const shortShare = options.shortDelayShare ?? 0.08;
  const longShare = options.longDelayShare ?? 0.02;
  const batchShare = options.batchShare ?? 0.6;
  const groups = Math.max(4, Math.ceil(counts.ordered / 50));
  const nextSeq = new Map<string, number>();
  let standard = 0;

  return kinds.map((kind, index): PlannedJob => {
    const keyed = random() < keyedShare;
    const key = keyed ? `${options.run}:${index}` : undefined;
    const base = {
      index,
      kind,
      type: `chaos-${kind}` as const,
      key,
      expect: DEAD_KINDS.has(kind) ? 'DEAD' : 'SUCCEEDED',
    } as const;
    const payload: Record<string, unknown> = { run: options.run };
    if (kind === 'ordered') {
      // FIFO: one group per account, in order; sent one by one (no delay, no batch, no dying producer).
      const groupId = `acct-${index % groups}`;
      const seq = nextSeq.get(groupId) ?? 0;
      nextSeq.set(groupId, seq + 1);
      return {
        ...base,
        lane: FIFO_LANE,
        payload: { ...payload, seq, failTimes: random() < 0.1 ? 1 : 0 },
        delaySeconds: 0,
        via: 'single',
        producerDies: false,
        groupId,
      };
    }
    if (kind === 'flaky') payload.failTimes = 1 + Math.floor(random() * 2);
    const lane = STANDARD_LANES[standard++ % STANDARD_LANES.length];
    const roll = random();
    // Duplicates are sent again from the captured body, which a scheduled job does not have.
    const delaySeconds =
      roll < longShare && kind !== 'duplicate'
        ? LONG_DELAY_SECONDS + Math.floor(random() * 2400)
        : roll < longShare + shortShare
          ? 1 + Math.floor(random() * 10)
          : 0;
    // A dying producer's key is resent once its due time plus resendUnsentAfterSeconds has passed:
    // only for jobs due now, so the run does not wait out a long delay.
    const producerDies = keyed && delaySeconds <= 10 && random() < deathShare;
    return {
      ...base,
      lane,
      payload,
      delaySeconds,
      via: producerDies ? 'single' : random() < batchShare ? 'batch' : 'single',
      producerDies,
    };
  });
}
