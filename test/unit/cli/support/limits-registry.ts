/** A registry whose job types declare limits, for `stats` (its Limits section). */
import { z } from 'zod';
import { defineJob, defineRegistry } from '../../../../lambdas/jobs';

const schema = z.object({ account: z.string().default('a1') });
const handler = async () => undefined;

export const registry = defineRegistry([
  defineJob({
    type: 'sync-crm',
    idempotency: 'strict',
    schema,
    rateLimit: { limit: 10, perSeconds: 60 },
    concurrency: { limit: 3 },
    handler,
  }),
  defineJob({
    type: 'per-account',
    idempotency: 'strict',
    schema,
    concurrency: { limit: 2, key: (p) => p.account },
    handler,
  }),
  defineJob({
    type: 'reindex',
    idempotency: 'strict',
    schema,
    debounce: { key: (p) => p.account, seconds: 30 },
    handler,
  }),
  defineJob({ type: 'plain', idempotency: 'strict', schema, handler }),
]);
