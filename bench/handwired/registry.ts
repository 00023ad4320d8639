/**
 * Our side of the end-to-end comparison: the registry our JobQueue's consumer is built around (its
 * `registryEntry`), one strict job type running the shared no-op job on the `high` lane.
 */
import { defineJob, defineRegistry } from '../../lambdas/jobs';
import { NOOP_TYPE, noopJob, noopSchema } from './jobs';

export const benchNoop = defineJob({
  type: NOOP_TYPE,
  lane: 'high',
  idempotency: 'strict',
  schema: noopSchema,
  handler: (payload) => noopJob(payload),
});

export const benchRegistry = defineRegistry([benchNoop]);
