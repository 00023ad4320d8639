/** Consumer configuration from the environment variables the JobQueue construct sets (CONSUMER_ENV). */

import * as z from 'zod';
import { type BackoffOptions, MAX_BACKOFF_SECONDS } from '../shared/backoff';
import { intRangeText, isIntInRange } from '../shared/checks';
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
  /** The ledger has the search index: status writes set its keys. */
  readonly searchIndex: boolean;
  /** Bucket for results over the ledger's inline limit (absent: such results become a note). */
  readonly resultsBucket?: string;
  /** Event bus for lifecycle events (absent: none are sent). */
  readonly eventBus?: string;
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

// Each schema's error message is the allowed values: readConsumerConfig turns an issue into a
// ConfigError naming the variable (the issue's path), the allowed values and the value given.

/** A variable that must be set to something other than blanks. */
const required = z.string({ error: 'set' }).refine((value) => value.trim() !== '', { error: 'set' });

/** Decimal digits only: Number() would also read '0x10', '1e3' and ' 5 ' as integers. */
function isIntegerIn(raw: string, min: number, max: number): boolean {
  return /^-?\d+$/.test(raw) && isIntInRange(Number(raw), min, max);
}

/** An optional integer from `min` to `max`; unset or blank reads as undefined. */
function optionalInt(min: number, max: number) {
  return z
    .string()
    .optional()
    .transform((raw) => (raw === undefined || raw.trim() === '' ? undefined : raw))
    .refine((raw) => raw === undefined || isIntegerIn(raw, min, max), {
      error: intRangeText(min, max),
    })
    .transform((raw) => (raw === undefined ? undefined : Number(raw)));
}

/** An integer from `min` to `max`; unset or blank reads as `fallback`. */
function int(min: number, max: number, fallback: number) {
  return optionalInt(min, max).transform((value) => value ?? fallback);
}

/** 'true' or 'false'; unset or empty reads as false. */
const bool = z
  .enum(['', 'true', 'false'], { error: "'true' or 'false'" })
  .optional()
  .transform((raw) => raw === 'true');

/** An optional resource name; unset or blank reads as undefined. */
const optionalName = z
  .string()
  .optional()
  .transform((raw) => (raw === undefined || raw.trim() === '' ? undefined : raw.trim()));

const consumerEnvSchema = z.object({
  [CONSUMER_ENV.ledgerTable]: required,
  [CONSUMER_ENV.lane]: required,
  [CONSUMER_ENV.queueUrl]: required,
  [CONSUMER_ENV.dlqUrl]: required,
  [CONSUMER_ENV.maxAttempts]: int(1, 1000, CONSUMER_DEFAULTS.maxAttempts),
  // Absent in deployments from before the ledger counted attempts: their queues redrive at maxAttempts.
  [CONSUMER_ENV.maxReceiveCount]: optionalInt(1, 1000),
  [CONSUMER_ENV.visibilityTimeoutSeconds]: int(
    0,
    MAX_BACKOFF_SECONDS,
    CONSUMER_DEFAULTS.visibilityTimeoutSeconds,
  ),
  [CONSUMER_ENV.backoffBaseSeconds]: int(0, MAX_BACKOFF_SECONDS, CONSUMER_DEFAULTS.backoffBaseSeconds),
  [CONSUMER_ENV.backoffCapSeconds]: int(0, MAX_BACKOFF_SECONDS, CONSUMER_DEFAULTS.backoffCapSeconds),
  [CONSUMER_ENV.ledgerTtlSeconds]: int(60, 10 * 365 * 86400, CONSUMER_DEFAULTS.ledgerTtlSeconds),
  [CONSUMER_ENV.batchParallelism]: int(1, 10_000, CONSUMER_DEFAULTS.batchParallelism),
  [CONSUMER_ENV.fifo]: bool,
  [CONSUMER_ENV.searchIndex]: z
    .enum(['', '0', '1', 'true', 'false'], { error: "'1' or '0'" })
    .optional()
    .transform((raw) => raw === '1' || raw === 'true'),
  [CONSUMER_ENV.resultsBucket]: optionalName,
  [CONSUMER_ENV.eventBus]: optionalName,
});

/** Read and validate; every error names the variable, the allowed values and the value given. */
export function readConsumerConfig(env: Env = process.env): ConsumerConfig {
  const parsed = consumerEnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue.path[0]);
    throw new ConfigError(`Environment variable ${name}`, issue.message, env[name], { cause: parsed.error });
  }
  const e = parsed.data;
  const maxAttempts = e[CONSUMER_ENV.maxAttempts];
  return {
    tableName: e[CONSUMER_ENV.ledgerTable],
    lane: e[CONSUMER_ENV.lane],
    queueUrl: e[CONSUMER_ENV.queueUrl],
    dlqUrl: e[CONSUMER_ENV.dlqUrl],
    maxAttempts,
    maxReceiveCount: e[CONSUMER_ENV.maxReceiveCount] ?? maxAttempts,
    visibilityTimeoutSeconds: e[CONSUMER_ENV.visibilityTimeoutSeconds],
    backoff: {
      baseSeconds: e[CONSUMER_ENV.backoffBaseSeconds],
      capSeconds: e[CONSUMER_ENV.backoffCapSeconds],
    },
    ledgerTtlSeconds: e[CONSUMER_ENV.ledgerTtlSeconds],
    batchParallelism: e[CONSUMER_ENV.batchParallelism],
    fifo: e[CONSUMER_ENV.fifo],
    searchIndex: e[CONSUMER_ENV.searchIndex],
    ...(e[CONSUMER_ENV.resultsBucket] === undefined ? {} : { resultsBucket: e[CONSUMER_ENV.resultsBucket] }),
    ...(e[CONSUMER_ENV.eventBus] === undefined ? {} : { eventBus: e[CONSUMER_ENV.eventBus] }),
  };
}
