/**
 * Exponential backoff with FULL jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"):
 * delay = random(0, min(cap, base * 2^(attempt - 1))), in whole seconds, clamped to the SQS
 * visibility limit of 12 h. Pure: the random source is injectable so tests can pin it.
 */

/** SQS's maximum visibility timeout (12 h): no backoff can be longer. */
export const MAX_BACKOFF_SECONDS = 43_200;

export interface BackoffOptions {
  /** Base delay in seconds (delay ceiling of the first attempt). */
  readonly baseSeconds: number;
  /** Largest delay ceiling in seconds; clamped to 43200. */
  readonly capSeconds: number;
}

/** Random source in [0, 1), like `Math.random`. */
export type Random = () => number;

/** The upper bound of the jittered delay for an attempt (1-based), in seconds. */
export function backoffCeilingSeconds(attempt: number, options: BackoffOptions): number {
  const cap = clamp(options.capSeconds, 0, MAX_BACKOFF_SECONDS);
  const base = Math.max(0, options.baseSeconds);
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  // 2^exponent overflows to Infinity for huge attempts; min() with the cap keeps it finite.
  return Math.floor(Math.min(cap, base * 2 ** exponent));
}

/** Full-jitter delay for an attempt (1-based), integer seconds in [0, ceiling]. */
export function fullJitterBackoffSeconds(
  attempt: number,
  options: BackoffOptions,
  random: Random = Math.random,
): number {
  const ceiling = backoffCeilingSeconds(attempt, options);
  const r = clamp(random(), 0, 1);
  return clamp(Math.floor(r * (ceiling + 1)), 0, ceiling);
}

/** Worst-case total wait over `attempts` attempts (sum of ceilings), for TTL sizing. */
export function retryHorizonSeconds(attempts: number, options: BackoffOptions): number {
  let total = 0;
  for (let attempt = 1; attempt <= attempts; attempt++) total += backoffCeilingSeconds(attempt, options);
  return total;
}

function clamp(value: number, min: number, max: number): number {
  if (Number.isNaN(value)) return min;
  return Math.min(max, Math.max(min, value));
}
