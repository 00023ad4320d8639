/** A registry without limits: `stats` shows no Limits section and reads no limiter item. */
import { z } from 'zod';
import { defineJob, defineRegistry } from '../../../../lambdas/jobs';

export const registry = defineRegistry([
  defineJob({ type: 'plain', idempotency: 'strict', schema: z.object({}), handler: async () => undefined }),
]);
