/** Consumer configuration from the environment variables the JobQueue construct sets (CONSUMER_ENV). */

import { type BackoffOptions, MAX_BACKOFF_SECONDS } from '../shared/backoff';
import { CONSUMER_ENV } from '../shared/contract';
import { DEFAULTS } from '../shared/defaults';
import { ConfigError } from '../shared/errors';

export interface ConsumerConfig {
  readonly tableName: string;
  readonly lane: string;
  readonly queueUrl: string;
  readonly dlqUrl: string;
  readonly maxAttempts: number;
  /** The queue's redrive maxReceiveCount; the last receive it allows is the consumer's to dead-letter. */
  readonly maxReceiveCount: number;
  readonly visibilityTimeoutSeconds: number;
  readonly backoff: BackoffOptions;
  readonly ledgerTtlSeconds: number;
  readonly batchParallelism: number;
  readonly fifo: boolean;
}

/** Defaults for the optional variables (the construct always sets them). */
export const CONSUMER_DEFAULTS = {
  maxAttempts: DEFAULTS.maxAttempts,
  // The construct derives it as 6 × the consumer timeout (no batching window).
  visibilityTimeoutSeconds: 6 * DEFAULTS.consumerTimeoutSeconds,
  backoffBaseSeconds: DEFAULTS.backoffBaseSeconds,
  backoffCapSeconds: DEFAULTS.backoffCapSeconds,
  ledgerTtlSeconds: DEFAULTS.ledgerTtlSeconds,
  batchParallelism: DEFAULTS.batchParallelism,
} as const;

type Env = Readonly<Record<string, string | undefined>>;

/** Read and validate; every error names the variable, the allowed values and the value given. */
export function readConsumerConfig(env: Env = process.env): ConsumerConfig {
  const maxAttempts = int(env, CONSUMER_ENV.maxAttempts, CONSUMER_DEFAULTS.maxAttempts, 1, 1000);
  const config: ConsumerConfig = {
    tableName: required(env, CONSUMER_ENV.ledgerTable),
    lane: required(env, CONSUMER_ENV.lane),
    queueUrl: required(env, CONSUMER_ENV.queueUrl),
    dlqUrl: required(env, CONSUMER_ENV.dlqUrl),
    maxAttempts,
    // Absent in deployments from before the ledger counted attempts: their queues redrive at maxAttempts.
    maxReceiveCount: int(env, CONSUMER_ENV.maxReceiveCount, maxAttempts, 1, 1000),
    visibilityTimeoutSeconds: int(
      env,
      CONSUMER_ENV.visibilityTimeoutSeconds,
      CONSUMER_DEFAULTS.visibilityTimeoutSeconds,
      0,
      MAX_BACKOFF_SECONDS,
    ),
    backoff: {
      baseSeconds: int(
        env,
        CONSUMER_ENV.backoffBaseSeconds,
        CONSUMER_DEFAULTS.backoffBaseSeconds,
        0,
        MAX_BACKOFF_SECONDS,
      ),
      capSeconds: int(
        env,
        CONSUMER_ENV.backoffCapSeconds,
        CONSUMER_DEFAULTS.backoffCapSeconds,
        0,
        MAX_BACKOFF_SECONDS,
      ),
    },
    ledgerTtlSeconds: int(
      env,
      CONSUMER_ENV.ledgerTtlSeconds,
      CONSUMER_DEFAULTS.ledgerTtlSeconds,
      60,
      10 * 365 * 86400,
    ),
    batchParallelism: int(env, CONSUMER_ENV.batchParallelism, CONSUMER_DEFAULTS.batchParallelism, 1, 10_000),
    fifo: bool(env, CONSUMER_ENV.fifo),
  };
  return config;
}

function required(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '')
    throw new ConfigError(`Environment variable ${name}`, 'set', value);
  return value;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  // Decimal digits only: Number() would also read '0x10', '1e3' and ' 5 ' as integers.
  if (!/^-?\d+$/.test(raw) || value < min || value > max) {
    throw new ConfigError(`Environment variable ${name}`, `an integer from ${min} to ${max}`, raw);
  }
  return value;
}

function bool(env: Env, name: string): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  throw new ConfigError(`Environment variable ${name}`, "'true' or 'false'", raw);
}
