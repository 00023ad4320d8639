/** defineJob's job-control options (tenant, tenantMetrics, rateLimit, concurrency, debounce, heartbeatSeconds). */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJob } from '../../../lambdas/registry';
import { JOB_CONTROL_LIMITS } from '../../../lambdas/registry/define-job';
import { ConfigError } from '../../../lambdas/shared/errors';

const base = { type: 'x', schema: z.object({ id: z.string() }), handler: async () => 1 };
const key = (p: { id: string }) => p.id;

function define(extra: Record<string, unknown>) {
  return () => defineJob({ ...base, ...extra } as Parameters<typeof defineJob>[0]);
}

describe('defineJob: job-control options refused', () => {
  // biome-ignore format: a table reads better one row per line
  it.each([
    ['tenant as a string', { tenant: 'acme' }, "defineJob('x').tenant must be a function (payload) => string | undefined; got \"string\""],
    ['tenantMetrics as a string', { tenantMetrics: 'yes' }, "defineJob('x').tenantMetrics must be true or false; got \"yes\""],
    ['tenantMetrics as 1', { tenantMetrics: 1 }, "defineJob('x').tenantMetrics must be true or false; got 1"],
    ['heartbeatSeconds 0', { heartbeatSeconds: 0 }, "defineJob('x').heartbeatSeconds must be an integer from 1 to 900; got 0"],
    ['heartbeatSeconds 901', { heartbeatSeconds: 901 }, "defineJob('x').heartbeatSeconds must be an integer from 1 to 900; got 901"],
    ['heartbeatSeconds 1.5', { heartbeatSeconds: 1.5 }, "defineJob('x').heartbeatSeconds must be an integer from 1 to 900; got 1.5"],
    ['rateLimit as a number', { rateLimit: 5 }, "defineJob('x').rateLimit must be an object { limit, perSeconds, key? }; got 5"],
    ['rateLimit as an array', { rateLimit: [] }, "defineJob('x').rateLimit must be an object { limit, perSeconds, key? }; got []"],
    ['rateLimit without limit', { rateLimit: { perSeconds: 1 } }, "defineJob('x').rateLimit.limit must be an integer from 1 to 100000; got undefined"],
    ['rateLimit.limit 0', { rateLimit: { limit: 0, perSeconds: 1 } }, "defineJob('x').rateLimit.limit must be an integer from 1 to 100000; got 0"],
    ['rateLimit.limit 100001', { rateLimit: { limit: 100_001, perSeconds: 1 } }, "defineJob('x').rateLimit.limit must be an integer from 1 to 100000; got 100001"],
    ['rateLimit without perSeconds', { rateLimit: { limit: 1 } }, "defineJob('x').rateLimit.perSeconds must be an integer from 1 to 86400; got undefined"],
    ['rateLimit.perSeconds 0', { rateLimit: { limit: 1, perSeconds: 0 } }, "defineJob('x').rateLimit.perSeconds must be an integer from 1 to 86400; got 0"],
    ['rateLimit.perSeconds 86401', { rateLimit: { limit: 1, perSeconds: 86_401 } }, "defineJob('x').rateLimit.perSeconds must be an integer from 1 to 86400; got 86401"],
    ['rateLimit.perSeconds 0.5', { rateLimit: { limit: 1, perSeconds: 0.5 } }, "defineJob('x').rateLimit.perSeconds must be an integer from 1 to 86400; got 0.5"],
    ['rateLimit.key as a string', { rateLimit: { limit: 1, perSeconds: 1, key: 'id' } }, "defineJob('x').rateLimit.key must be a function (payload) => string; got \"string\""],
    ['an unknown rateLimit key', { rateLimit: { limit: 1, perSeconds: 1, burst: 5 } }, "defineJob('x').rateLimit.burst must be absent: known options are limit, perSeconds, key; got 5"],
    ['concurrency as true', { concurrency: true }, "defineJob('x').concurrency must be an object { limit, key? }; got true"],
    ['concurrency.limit 0', { concurrency: { limit: 0 } }, "defineJob('x').concurrency.limit must be an integer from 1 to 100; got 0"],
    ['concurrency.limit 101', { concurrency: { limit: 101 } }, "defineJob('x').concurrency.limit must be an integer from 1 to 100; got 101"],
    ['concurrency.limit "2"', { concurrency: { limit: '2' } }, "defineJob('x').concurrency.limit must be an integer from 1 to 100; got \"2\""],
    ['concurrency.key as a number', { concurrency: { limit: 1, key: 3 } }, "defineJob('x').concurrency.key must be a function (payload) => string; got \"number\""],
    ['an unknown concurrency key', { concurrency: { limit: 1, perSeconds: 5 } }, "defineJob('x').concurrency.perSeconds must be absent: known options are limit, key; got 5"],
    ['debounce as a string', { debounce: 'id' }, "defineJob('x').debounce must be an object { key, seconds, keep? }; got \"id\""],
    ['debounce without key', { debounce: { seconds: 5 } }, "defineJob('x').debounce.key must be a function (payload) => string; got \"undefined\""],
    ['debounce.seconds 0', { debounce: { key, seconds: 0 } }, "defineJob('x').debounce.seconds must be an integer from 1 to 900; got 0"],
    ['debounce.seconds 901', { debounce: { key, seconds: 901 } }, "defineJob('x').debounce.seconds must be an integer from 1 to 900; got 901"],
    ['debounce.keep "latest"', { debounce: { key, seconds: 5, keep: 'latest' } }, "defineJob('x').debounce.keep must be 'last' or 'first'; got \"latest\""],
    ['an unknown debounce key', { debounce: { key, seconds: 5, maxWait: 10 } }, "defineJob('x').debounce.maxWait must be absent: known options are key, seconds, keep; got 10"],
    ['debounce with idempotency none', { idempotency: 'none', debounce: { key, seconds: 5 } }, "defineJob('x').debounce must be absent with idempotency 'none' (use 'strict' or 'optimistic'); got \"set\""],
    ['debounce with an idempotencyKey', { idempotencyKey: key, debounce: { key, seconds: 5 } }, "defineJob('x').idempotencyKey must be absent on a debounced job type: the debounce key already names the job of each window; got \"a function\""],
  ])('refuses %s, naming the field, the allowed values and the value', (_label, extra, message) => {
    // Act
    const act = define(extra);

    // Assess: the whole message, so a changed path, rule or value fails
    expect(act).toThrow(ConfigError);
    let thrown: unknown;
    try {
      act();
    } catch (error) {
      thrown = error;
    }
    expect((thrown as Error).message).toBe(message);
  });
});

describe('defineJob: job-control options accepted', () => {
  it('accepts every bound and keeps the options on the definition', () => {
    // Prepare
    const L = JOB_CONTROL_LIMITS;
    const tenant = (p: { id: string }) => p.id;

    // Act
    const low = defineJob({
      ...base,
      tenant,
      tenantMetrics: false,
      heartbeatSeconds: L.heartbeatSeconds.min,
      rateLimit: { limit: L.rateLimit.min, perSeconds: L.perSeconds.min, key },
      concurrency: { limit: L.concurrency.min, key },
      debounce: { key, seconds: L.debounceSeconds.min, keep: 'first' },
    });
    const high = defineJob({
      ...base,
      idempotency: 'optimistic',
      tenantMetrics: true,
      heartbeatSeconds: L.heartbeatSeconds.max,
      rateLimit: { limit: L.rateLimit.max, perSeconds: L.perSeconds.max },
      concurrency: { limit: L.concurrency.max },
      debounce: { key, seconds: L.debounceSeconds.max },
    });

    // Assess
    expect(L).toEqual({
      rateLimit: { min: 1, max: 100_000 },
      perSeconds: { min: 1, max: 86_400 },
      concurrency: { min: 1, max: 100 },
      debounceSeconds: { min: 1, max: 900 },
      heartbeatSeconds: { min: 1, max: 900 },
    });
    expect(low.tenant).toBe(tenant);
    expect(low.rateLimit).toEqual({ limit: 1, perSeconds: 1, key });
    expect(high.concurrency).toEqual({ limit: 100 });
    expect(high.debounce?.seconds).toBe(900);
    expect(high.tenantMetrics).toBe(true);
  });

  it('ignores keys given as undefined inside rateLimit (as it does for the spec)', () => {
    // Act
    const act = define({ rateLimit: { limit: 1, perSeconds: 1, burst: undefined } });

    // Assess
    expect(act).not.toThrow();
  });
});
