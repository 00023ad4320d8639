/**
 * The one job both consumers of the end-to-end comparison run (bench/e2e.ts): validate the payload
 * and do nothing else. Kept free of any runtime import, so the hand-wired consumer bundles only
 * this, zod and Powertools; our lane gets it through ./registry.ts.
 *
 * The result carries the moment the work finished (`doneAt`, epoch ms): our ledger keeps it as the
 * job's result and Powertools keeps it as the idempotency record's data, so the latency phase reads
 * one timestamp, written at the same point, for both paths.
 */
import { z } from 'zod';

/** Environment variable naming the hand-wired consumer's idempotency table (set by the stack). */
export const IDEMPOTENCY_TABLE_ENV = 'IDEMPOTENCY_TABLE';

/** The job's type in our registry. */
export const NOOP_TYPE = 'bench-noop' as const;

/** Both paths validate the same payload: a run tag (one per round) and the job's number in it. */
export const noopSchema = z.object({ run: z.string().min(1).max(64), n: z.number().int().min(0) });
export type NoopPayload = z.infer<typeof noopSchema>;

export interface NoopResult {
  readonly run: string;
  readonly n: number;
  /** Epoch ms when the job finished its work. */
  readonly doneAt: number;
}

/** The job's work: none. */
export async function noopJob(payload: NoopPayload): Promise<NoopResult> {
  return { run: payload.run, n: payload.n, doneAt: Date.now() };
}
