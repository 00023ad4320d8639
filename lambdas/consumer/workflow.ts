/**
 * What a finished job of a group or chain does next: settle its group (the callbacks are sent once
 * every member finished) and move its chain on (the next step, with this one's result) or stop it.
 *
 * Called after the job's final ledger write, and again on every redelivery of a finished job, so a
 * consumer that dies in between leaves the step to the redelivery. Each step is idempotent (see
 * group-store.ts and chain-store.ts).
 */
import type { JobEnvelope } from '../shared/contract';
import { describeError } from '../shared/errors';
import type { ProcessDeps } from './deps';

export type FinalStatus = 'SUCCEEDED' | 'DEAD' | 'CANCELLED';

/** True when the job belongs to a group or a chain (and so has more to do when it finishes). */
export function inWorkflow(envelope: JobEnvelope): boolean {
  return envelope.group !== undefined || envelope.chain !== undefined;
}

/**
 * After a job's final status: count it if it was not counted by its write (a producer cancelled it
 * while queued), settle its group, and move its chain. Throws when a ledger or SQS call fails after
 * retries: the caller keeps the message so a redelivery does it again (except after DEAD, where a
 * redelivery would run the job again: there the failure is logged, and the group settles on
 * another member's settle or the next `getGroup`).
 */
export async function afterFinished(
  envelope: JobEnvelope,
  status: FinalStatus,
  deps: ProcessDeps,
  detail: {
    /** The run's result (SUCCEEDED now); absent on a redelivery, where it is read from the ledger. */
    readonly result?: unknown;
    readonly resultKnown?: boolean;
    readonly error?: string;
  } = {},
): Promise<void> {
  const flow = deps.workflow;
  if (flow === undefined || !inWorkflow(envelope)) return;
  const work = async () => {
    const { group, chain } = envelope;
    if (group !== undefined) await flow.groups.settle(group, status, envelope.id);
    if (chain !== undefined) {
      if (status === 'SUCCEEDED') {
        const [next, ...rest] = chain.next;
        if (next !== undefined) {
          const result = detail.resultKnown ? detail.result : (await deps.ledger.get(envelope.id))?.result;
          await flow.chains.enqueueStep(
            chain.id,
            chain.index + 1,
            next,
            rest,
            result,
            envelope.correlationId,
          );
        }
        await flow.chains.advance(chain.id, chain.index, next === undefined);
      } else {
        await flow.chains.stop(chain.id, chain.index, envelope.id, status, detail.error);
      }
    }
  };
  try {
    await withRetries(work, deps);
  } catch (error) {
    if (status === 'DEAD') {
      deps.logger.error(
        'group or chain step after a DEAD job failed; it is settled by the next member or getGroup',
        {
          jobId: envelope.id,
          error: describeError(error),
        },
      );
      return;
    }
    throw error;
  }
}

async function withRetries(work: () => Promise<void>, deps: ProcessDeps): Promise<void> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let retry = 0; ; retry++) {
    try {
      return await work();
    } catch (error) {
      if (retry >= 3) throw error;
      await sleep(Math.floor(deps.random() * 100 * 2 ** retry));
    }
  }
}
