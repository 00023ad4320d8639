/** Bad job definitions, registries and consumer environments: each fails at cold start, naming what is wrong. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CONSUMER_DEFAULTS, readConsumerConfig } from '../../../lambdas/consumer/config';
import { defineJob, defineRegistry } from '../../../lambdas/registry';
import type { AnyJob } from '../../../lambdas/registry/types';
import { CONSUMER_ENV } from '../../../lambdas/shared/contract';
import { ConfigError, JobDefinitionError } from '../../../lambdas/shared/errors';
import { consumerEnv, DLQ_URL, QUEUE_URL } from './support/fixtures';

const base = { type: 'resize', schema: z.object({ key: z.string() }), handler: async () => 1 };

describe('defineJob with bad options', () => {
  // biome-ignore format: a table reads better one row per line
  it.each([
    ['lane __proto__', { lane: '__proto__' }, /defineJob\('resize'\)\.lane must be a lane name: lowercase letters.*; got "__proto__"/],
    ['lane constructor', { lane: 'constructor' }, /\.lane must be a lane name.*not a name every object has.*; got "constructor"/],
    ['lane toString', { lane: 'toString' }, /\.lane must be a lane name/],
    ['an upper-case lane', { lane: 'High' }, /\.lane must be a lane name: lowercase letters.*; got "High"/],
    ['an empty lane', { lane: '' }, /\.lane must be a lane name.*; got ""/],
    ['a numeric lane', { lane: 1 }, /\.lane must be a lane name.*; got 1/],
    ['maxAttempts as a string', { maxAttempts: '5' }, /\.maxAttempts must be an integer from 1 to 1000; got "5"/],
    ['maxAttempts 0', { maxAttempts: 0 }, /\.maxAttempts must be an integer from 1 to 1000; got 0/],
    ['a fractional timeout', { timeoutSeconds: 1.5 }, /\.timeoutSeconds must be an integer from 1 to 900; got 1\.5/],
    ['a timeout as a string', { timeoutSeconds: '30' }, /\.timeoutSeconds must be an integer from 1 to 900; got "30"/],
    ['a misspelt timeout', { timeout: 30 }, /defineJob\('resize'\)\.timeout must be absent: known options are type, schema, lane, maxAttempts/],
    ['retries instead of maxAttempts', { retries: 3 }, /\.retries must be absent: known options are .*maxAttempts/],
    ['backoff as a number', { backoff: 5 }, /\.backoff must be an object \{ baseSeconds\?, capSeconds\? \}; got 5/],
    ['a misspelt backoff key', { backoff: { base: 5 } }, /\.backoff\.base must be absent: known options are baseSeconds, capSeconds; got 5/],
    ['idempotencyKey as a string', { idempotencyKey: 'id' }, /\.idempotencyKey must be a function \(payload\) => string \| undefined; got "string"/],
    ['an unknown idempotency mode', { idempotency: 'exactly-once' }, /\.idempotency must be one of strict, optimistic, none; got "exactly-once"/],
  ])('refuses %s, naming the option, the allowed values and the value given', (_label, extra, message) => {
    // Act
    const act = () => defineJob({ ...base, ...(extra as object) } as Parameters<typeof defineJob>[0]);

    // Assess
    expect(act).toThrow(ConfigError);
    expect(act).toThrow(message);
  });

  it('refuses a spec that is not an object', () => {
    // Act
    const act = () => defineJob(undefined as unknown as Parameters<typeof defineJob>[0]);

    // Assess
    expect(act).toThrow(/defineJob\(spec\) must be an object with type, schema and handler; got undefined/);
  });

  it('still accepts every documented option, and options set to undefined', () => {
    // Act
    const job = defineJob({
      ...base,
      lane: 'bulk-2',
      maxAttempts: 3,
      timeoutSeconds: 30,
      backoff: { baseSeconds: 1, capSeconds: 60 },
      idempotency: 'optimistic',
      idempotencyKey: (p) => p.key,
      keyRetentionSeconds: 3600,
      checkKeyPayload: false,
      ...({ note: undefined } as object),
    });

    // Assess
    expect(job.lane).toBe('bulk-2');
  });
});

describe('defineRegistry with bad input', () => {
  it.each([
    [
      'a job spec that skipped defineJob',
      [base],
      /jobs\[0\] must be a defineJob\(\.\.\.\) result .*; got an object without/,
    ],
    [
      'undefined in the list',
      [defineJob(base), undefined],
      /jobs\[1\] must be a defineJob\(\.\.\.\) result .*; got undefined/,
    ],
    ['a function', [() => 1], /jobs\[0\] must be a defineJob\(\.\.\.\) result .*; got a function/],
  ])('refuses %s, naming its index', (_label, jobs, message) => {
    // Act
    const act = () => defineRegistry(jobs as unknown as AnyJob[]);

    // Assess
    expect(act).toThrow(JobDefinitionError);
    expect(act).toThrow(message);
  });

  it('refuses something that is not an array', () => {
    // Act
    const act = () => defineRegistry(defineJob(base) as unknown as AnyJob[]);

    // Assess
    expect(act).toThrow(/defineRegistry\(jobs\) takes an array of defineJob\(\.\.\.\) results; got object/);
  });
});

describe('consumer config with bad environment values', () => {
  it.each([
    [{ JOBS_MAX_ATTEMPTS: '0x10' }, /JOBS_MAX_ATTEMPTS must be an integer from 1 to 1000; got "0x10"/],
    [{ JOBS_MAX_ATTEMPTS: '1e3' }, /JOBS_MAX_ATTEMPTS must be an integer from 1 to 1000; got "1e3"/],
    [
      { JOBS_BATCH_PARALLELISM: ' 4 ' },
      /JOBS_BATCH_PARALLELISM must be an integer from 1 to 10000; got " 4 "/,
    ],
    [
      { JOBS_VISIBILITY_TIMEOUT_SECONDS: '180.0' },
      /JOBS_VISIBILITY_TIMEOUT_SECONDS must be an integer from 0 to 43200; got "180.0"/,
    ],
    [
      { JOBS_LEDGER_TTL_SECONDS: '-1' },
      /JOBS_LEDGER_TTL_SECONDS must be an integer from 60 to 315360000; got "-1"/,
    ],
    [{ JOBS_FIFO: 'TRUE' }, /JOBS_FIFO must be 'true' or 'false'; got "TRUE"/],
    [{ JOBS_QUEUE_URL: '  ' }, /JOBS_QUEUE_URL must be set; got " {2}"/],
  ])('refuses %o, naming the variable, the allowed values and the value given', (bad, message) => {
    // Act
    const act = () => readConsumerConfig(consumerEnv(bad));

    // Assess
    expect(act).toThrow(ConfigError);
    expect(act).toThrow(message);
  });

  it.each([CONSUMER_ENV.ledgerTable, CONSUMER_ENV.lane, CONSUMER_ENV.queueUrl, CONSUMER_ENV.dlqUrl])(
    'refuses an environment without %s',
    (name) => {
      // Prepare
      const env: Record<string, string | undefined> = consumerEnv();
      delete env[name];

      // Act
      const act = () => readConsumerConfig(env);

      // Assess
      expect(act).toThrow(ConfigError);
      expect(act).toThrow(`Environment variable ${name} must be set; got undefined`);
    },
  );

  it('reads unset or blank optional variables as the defaults, and the receive count as maxAttempts', () => {
    // Prepare
    const env: Record<string, string | undefined> = consumerEnv({
      [CONSUMER_ENV.maxAttempts]: ' ',
      [CONSUMER_ENV.fifo]: '',
    });
    for (const name of [
      CONSUMER_ENV.maxReceiveCount,
      CONSUMER_ENV.visibilityTimeoutSeconds,
      CONSUMER_ENV.backoffBaseSeconds,
      CONSUMER_ENV.backoffCapSeconds,
      CONSUMER_ENV.ledgerTtlSeconds,
      CONSUMER_ENV.batchParallelism,
    ]) {
      delete env[name];
    }

    // Act
    const config = readConsumerConfig(env);

    // Assess
    expect(config).toEqual({
      tableName: 'ledger',
      lane: 'default',
      queueUrl: QUEUE_URL,
      dlqUrl: DLQ_URL,
      maxAttempts: CONSUMER_DEFAULTS.maxAttempts,
      maxReceiveCount: CONSUMER_DEFAULTS.maxAttempts,
      visibilityTimeoutSeconds: CONSUMER_DEFAULTS.visibilityTimeoutSeconds,
      backoff: {
        baseSeconds: CONSUMER_DEFAULTS.backoffBaseSeconds,
        capSeconds: CONSUMER_DEFAULTS.backoffCapSeconds,
      },
      ledgerTtlSeconds: CONSUMER_DEFAULTS.ledgerTtlSeconds,
      batchParallelism: CONSUMER_DEFAULTS.batchParallelism,
      fifo: false,
      searchIndex: false,
    });
    expect(readConsumerConfig({ ...env, [CONSUMER_ENV.maxAttempts]: '3' }).maxReceiveCount).toBe(3);
  });

  it('accepts the bounds of each range', () => {
    // Act
    const config = readConsumerConfig(
      consumerEnv({
        [CONSUMER_ENV.maxAttempts]: '1000',
        [CONSUMER_ENV.maxReceiveCount]: '1',
        [CONSUMER_ENV.visibilityTimeoutSeconds]: '0',
        [CONSUMER_ENV.backoffCapSeconds]: '43200',
        [CONSUMER_ENV.ledgerTtlSeconds]: '60',
      }),
    );

    // Assess
    expect(config).toMatchObject({
      maxAttempts: 1000,
      maxReceiveCount: 1,
      visibilityTimeoutSeconds: 0,
      backoff: { capSeconds: 43200 },
      ledgerTtlSeconds: 60,
    });
  });
});
