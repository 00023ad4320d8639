/**
 * `JobClient.waitFor`: polls `getJob` until the job finishes (SUCCEEDED, DEAD or CANCELLED), with
 * intervals growing ×1.5 per poll up to a cap, so a long wait costs a few reads a minute.
 * Each poll is one `getJob` (one eventually consistent GetItem, 0.5 read units for an item under
 * 4 KB; plus one S3 GET at the end for a result stored there).
 */
import { intRangeText, isIntInRange } from '../shared/checks';
import type { JobRecord, JobStatus } from '../shared/contract';
import { ConfigError, WaitTimeoutError } from '../shared/errors';
import type { WaitForOptions } from './types';

/** Statuses a job does not leave by itself: waiting ends there. */
const FINAL: ReadonlySet<JobStatus> = new Set(['SUCCEEDED', 'DEAD', 'CANCELLED']);

export const WAIT_FOR_DEFAULTS = { timeoutMs: 60_000, initialIntervalMs: 200, maxIntervalMs: 5000 } as const;

/** Bounds of the options: a day at most, and no poll more often than every 10 ms. */
const LIMITS = {
  timeoutMs: { min: 0, max: 86_400_000 },
  initialIntervalMs: { min: 10, max: 3_600_000 },
  maxIntervalMs: { max: 3_600_000 },
} as const;

export interface WaitClock {
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

/** The options with their defaults, checked; errors name the option, the range and the value given. */
export function resolveWaitOptions(options: WaitForOptions): Required<Omit<WaitForOptions, 'signal'>> {
  const timeoutMs = options.timeoutMs ?? WAIT_FOR_DEFAULTS.timeoutMs;
  const initialIntervalMs = options.initialIntervalMs ?? WAIT_FOR_DEFAULTS.initialIntervalMs;
  check('timeoutMs', timeoutMs, LIMITS.timeoutMs.min, LIMITS.timeoutMs.max);
  check('initialIntervalMs', initialIntervalMs, LIMITS.initialIntervalMs.min, LIMITS.initialIntervalMs.max);
  // The default cap never sits below a larger first interval.
  const maxIntervalMs = options.maxIntervalMs ?? Math.max(WAIT_FOR_DEFAULTS.maxIntervalMs, initialIntervalMs);
  check('maxIntervalMs', maxIntervalMs, initialIntervalMs, LIMITS.maxIntervalMs.max);
  return { timeoutMs, initialIntervalMs, maxIntervalMs };
}

function check(name: string, value: unknown, min: number, max: number): void {
  if (!isIntInRange(value, min, max)) {
    throw new ConfigError(`waitFor option ${name}`, `${intRangeText(min, max)} (milliseconds)`, value);
  }
}

/**
 * Resolves with the job's record once it is SUCCEEDED, DEAD or CANCELLED. A job the ledger does not
 * know yet (an unkeyed job before its first claim) is waited for like any other. Rejects with a
 * WaitTimeoutError after `timeoutMs`, with the signal's reason when it aborts, and with whatever
 * `getJob` throws (a ledger or S3 error is not retried here: the SDK already retried it).
 */
export async function waitForJob(
  getJob: (jobId: string) => Promise<JobRecord | undefined>,
  jobId: string,
  options: WaitForOptions,
  clock: WaitClock,
): Promise<JobRecord> {
  const { timeoutMs, initialIntervalMs, maxIntervalMs } = resolveWaitOptions(options);
  const { signal } = options;
  const startedAt = clock.now();
  let intervalMs = initialIntervalMs;
  for (;;) {
    signal?.throwIfAborted();
    const job = await getJob(jobId);
    if (job?.status !== undefined && FINAL.has(job.status)) return job;
    const waitedMs = clock.now() - startedAt;
    if (waitedMs >= timeoutMs) throw new WaitTimeoutError(jobId, job?.status, waitedMs);
    await abortable(clock.sleep(Math.min(intervalMs, timeoutMs - waitedMs)), signal);
    intervalMs = Math.min(Math.ceil(intervalMs * 1.5), maxIntervalMs);
  }
}

/** `sleeping`, or a rejection with the signal's reason as soon as it aborts. */
function abortable(sleeping: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return sleeping;
  signal.throwIfAborted();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([sleeping, aborted]).finally(() => {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  });
}
