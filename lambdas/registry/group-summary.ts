/** The schema of what a group's callback receives under `group` (see `enqueueGroup`). */
import * as z from 'zod';

/**
 * Put it in a callback job's schema: `schema: z.object({ group: groupSummarySchema, ... })`.
 * Counts are of members that finished; `failedJobIds` lists members that ended DEAD or
 * CANCELLED (at most 100).
 */
export const groupSummarySchema = z.object({
  groupId: z.string(),
  total: z.number().int().nonnegative(),
  succeeded: z.number().int().nonnegative(),
  dead: z.number().int().nonnegative(),
  cancelled: z.number().int().nonnegative(),
  failedJobIds: z.array(z.string()),
});
