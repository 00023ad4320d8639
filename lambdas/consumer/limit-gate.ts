/**
 * Rate limits and concurrency limits before a run: a concurrency slot (lease counter) first, then
 * a rate token (token bucket), both conditional writes on limiter items in the ledger table,
 * shared by every consumer of every lane. A job type with neither makes no call here.
 *
 * The slot comes first because it can be given back: a job refused by the rate limit releases
 * its slot at once, while a token taken for a job the concurrency limit then refused would be lost.
 */
import { randomBytes } from 'node:crypto';
import { limitItemId } from '../ledger/limits';
import type { AnyJob } from '../registry/types';
import type { Random } from '../shared/backoff';
import { isUserKey, USER_KEY_RULE } from '../shared/checks';
import { ConfigError, describeError } from '../shared/errors';
import type { ProcessDeps } from './deps';

/** Admitted: run the job, then `release` (frees the concurrency slot, if any). */
export interface Admitted {
  readonly admitted: true;
  release(): Promise<void>;
}

/** Over a limit: defer for about `waitMs`; nothing was taken. */
export interface Refused {
  readonly admitted: false;
  readonly reason: string;
  readonly waitMs: number;
  readonly limit: 'rate' | 'concurrency';
}

const NOTHING_TO_RELEASE: Admitted = { admitted: true, release: async () => {} };

/** The limiter keys of a job (computed before any write, so a bad key function fails first). */
export function limitKeys(
  job: AnyJob,
  payload: unknown,
): { readonly rate?: string; readonly concurrency?: string } {
  return {
    rate: job.rateLimit ? limitItemId('rate', job.type, userKey(job, 'rateLimit', payload)) : undefined,
    concurrency: job.concurrency
      ? limitItemId('concurrency', job.type, userKey(job, 'concurrency', payload))
      : undefined,
  };
}

export async function enterLimits(
  job: AnyJob,
  keys: ReturnType<typeof limitKeys>,
  leaseMs: number,
  deps: ProcessDeps,
): Promise<Admitted | Refused> {
  if (keys.rate === undefined && keys.concurrency === undefined) return NOTHING_TO_RELEASE;
  const limits = deps.limits;
  if (limits === undefined)
    throw new Error('limits are configured on the job but the consumer has no Limits');
  let slot: { readonly id: string; readonly holder: string } | undefined;
  if (keys.concurrency !== undefined && job.concurrency) {
    const holder = randomBytes(6).toString('base64url');
    const limit = job.concurrency.limit;
    const got = await limits.acquireSlot({ id: keys.concurrency, limit, holder, leaseMs });
    if (!got.acquired) {
      return {
        admitted: false,
        limit: 'concurrency',
        reason: `concurrency limit reached: ${got.running} of ${limit} running`,
        waitMs: got.retryAfterMs,
      };
    }
    slot = { id: keys.concurrency, holder };
  }
  const release = async () => {
    if (slot === undefined) return;
    try {
      await limits.releaseSlot(slot);
    } catch (error) {
      // The slot frees itself when its lease ends; a failed release only delays the next job.
      deps.logger.warn('concurrency slot release failed; it frees itself at the end of its lease', {
        error: describeError(error),
      });
    }
  };
  if (keys.rate !== undefined && job.rateLimit) {
    const { limit, perSeconds } = job.rateLimit;
    let token: Awaited<ReturnType<typeof limits.takeToken>>;
    try {
      token = await limits.takeToken({ id: keys.rate, limit, intervalMs: perSeconds * 1000 });
    } catch (error) {
      await release();
      throw error;
    }
    if (!token.allowed) {
      await release();
      return {
        admitted: false,
        limit: 'rate',
        reason: `rate limit reached: ${limit} per ${perSeconds} s`,
        waitMs: token.retryAfterMs,
      };
    }
  }
  return { admitted: true, release };
}

/**
 * Seconds to defer a job over a limit: until the limit frees up, plus jitter that grows with the
 * receives, so a backlog waiting on one limit spreads out instead of polling in step. At least 1 s
 * (never a busy loop), at most 12 h (the SQS visibility limit).
 */
export function limitDeferSeconds(waitMs: number, receives: number, random: Random): number {
  const wait = Math.max(1, Math.ceil(waitMs / 1000));
  const spread = Math.min(60, 2 ** Math.min(Math.max(receives, 1), 6));
  return Math.min(43_200, wait + Math.floor(random() * (spread + 1)));
}

function userKey(job: AnyJob, option: 'rateLimit' | 'concurrency', payload: unknown): string | undefined {
  const derive = job[option]?.key;
  if (derive === undefined) return undefined;
  const key = derive(payload);
  if (!isUserKey(key))
    throw new ConfigError(`defineJob('${job.type}').${option}.key(payload)`, USER_KEY_RULE, key);
  return key;
}
