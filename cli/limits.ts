/**
 * The "Limits" part of `stats` and `top`: the registry's job types with a rate limit, concurrency
 * limit or debounce window, and, for limits shared by the whole type (no key function), their
 * state now, read from the limiter items in the ledger table (GetItem only: no writes).
 */
import { emissionIntervalMs, type Limits, limitItemId, tokensAt } from '../lambdas/ledger/limits';
import type { AnyJob, JobRegistry } from '../lambdas/registry/types';
import { duration, table } from './render';

export interface LimitStats {
  readonly type: string;
  readonly kind: 'rate' | 'concurrency' | 'debounce';
  /** The configured limit in words: `10 per 60 s`, `at most 3 at once`, `debounce 30 s, keep last`. */
  readonly limit: string;
  /** True when a key function splits it into one limit per key (always for debounce). */
  readonly perKey: boolean;
  /** The state now in words; null for per-key limits, debounce windows, or when it could not be read. */
  readonly state: string | null;
  /** The definition's numbers. */
  readonly settings: Readonly<Record<string, number | string>>;
  /** Concurrency, whole type: runs holding a live lease. */
  readonly running?: number;
  /** Rate, whole type: tokens that may be taken now (0 to the limit). */
  readonly tokens?: number;
  /** Rate, whole type, no token left: when the next one frees up (ISO-8601). */
  readonly nextTokenAt?: string;
  /** Rate, whole type, not full: when the bucket is full again (ISO-8601). */
  readonly fullAt?: string;
}

type Defined = { readonly type: string; readonly job: AnyJob };

/** The registry's limits in definition order; no AWS call when no job type declares one. */
export async function gatherLimits(input: {
  readonly registry: JobRegistry;
  readonly limits: () => Promise<Limits>;
  readonly now: number;
  readonly warn: (text: string) => void;
}): Promise<LimitStats[]> {
  const jobs: Defined[] = input.registry.types.flatMap((type) => {
    const job = input.registry.get(type);
    return job ? [{ type, job }] : [];
  });
  const declared = jobs.filter(({ job }) => job.rateLimit || job.concurrency || job.debounce);
  if (declared.length === 0) return [];
  let reader: Limits | undefined;
  const read = async () => {
    reader ??= await input.limits();
    return reader;
  };
  const warnings = new Set<string>();
  const out = await Promise.all(
    declared.map(async ({ type, job }) => {
      const rows: LimitStats[] = [];
      if (job.rateLimit) rows.push(await rateRow(type, job.rateLimit, read, input.now, warnings));
      if (job.concurrency) rows.push(await concurrencyRow(type, job.concurrency, read, input.now, warnings));
      if (job.debounce) {
        const keep = job.debounce.keep ?? 'last';
        rows.push({
          type,
          kind: 'debounce',
          limit: `debounce ${job.debounce.seconds} s, keep ${keep}`,
          perKey: true,
          state: null,
          settings: { seconds: job.debounce.seconds, keep },
        });
      }
      return rows;
    }),
  );
  for (const w of warnings) input.warn(w);
  return out.flat();
}

async function rateRow(
  type: string,
  rate: NonNullable<AnyJob['rateLimit']>,
  read: () => Promise<Limits>,
  now: number,
  warnings: Set<string>,
): Promise<LimitStats> {
  const base = {
    type,
    kind: 'rate' as const,
    limit: `${rate.limit} per ${rate.perSeconds} s`,
    perKey: typeof rate.key === 'function',
    settings: { limit: rate.limit, perSeconds: rate.perSeconds },
  };
  if (base.perKey) return { ...base, state: null };
  let nextFreeAt: number | undefined;
  try {
    nextFreeAt = (await (await read()).readRate(limitItemId('rate', type)))?.nextFreeAt;
  } catch (error) {
    warnings.add(`limit states unavailable: ${(error as Error).message}`);
    return { ...base, state: null };
  }
  return { ...base, ...rateState(rate.limit, rate.perSeconds * 1000, nextFreeAt, now) };
}

/**
 * The state of a GCRA bucket whose theoretical arrival time is `tat`, counted by the ledger's own
 * rule (`tokensAt`, `emissionIntervalMs`): tokens left, when it is full, when the next frees up.
 */
export function rateState(
  limit: number,
  intervalMs: number,
  tat: number | undefined,
  now: number,
): Pick<LimitStats, 'state' | 'tokens' | 'nextTokenAt' | 'fullAt'> {
  if (tat === undefined || tat <= now) return { state: `full (${limit} tokens)`, tokens: limit };
  const t = emissionIntervalMs(limit, intervalMs);
  const tokens = tokensAt(limit, intervalMs, tat, now);
  const fullAt = new Date(tat).toISOString();
  if (tokens > 0) return { state: `${tokens} of ${limit} tokens left, full at ${fullAt}`, tokens, fullAt };
  const next = tat - (limit - 1) * t;
  const nextTokenAt = new Date(next).toISOString();
  return {
    state: `no tokens: next in ${duration(Math.ceil((next - now) / 1000))} (at ${nextTokenAt})`,
    tokens: 0,
    nextTokenAt,
    fullAt,
  };
}

async function concurrencyRow(
  type: string,
  conc: NonNullable<AnyJob['concurrency']>,
  read: () => Promise<Limits>,
  now: number,
  warnings: Set<string>,
): Promise<LimitStats> {
  const base = {
    type,
    kind: 'concurrency' as const,
    limit: `at most ${conc.limit} at once`,
    perKey: typeof conc.key === 'function',
    settings: { limit: conc.limit },
  };
  if (base.perKey) return { ...base, state: null };
  try {
    const slots = await (await read()).readSlots(limitItemId('concurrency', type));
    // Ended leases stay in the map until an acquire that they would deny removes them.
    const running = (slots?.holders ?? []).filter((h) => h.until > now).length;
    return { ...base, state: `${running} running`, running };
  } catch (error) {
    warnings.add(`limit states unavailable: ${(error as Error).message}`);
    return { ...base, state: null };
  }
}

/** The Limits section, or nothing when no job type declares a limit. */
export function renderLimits(limits: readonly LimitStats[]): string {
  if (limits.length === 0) return '';
  const rows = limits.map((l) => [
    l.type,
    l.limit,
    l.perKey ? 'per key' : 'whole type',
    l.state ?? (l.perKey ? '(one per key)' : undefined),
  ]);
  return `\nLimits:\n${table(['TYPE', 'LIMIT', 'SCOPE', 'NOW'], rows)}`;
}
