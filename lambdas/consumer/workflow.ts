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
  // Each step once: a retry after a later step failed does not repeat the earlier ones.
  let counted = false;
  let passedOn = false;
  const work = async () => {
    const { group, chain } = envelope;
    if (group !== undefined && !counted) {
      await flow.groups.settle(group, status, envelope.id);
      counted = true;
    }
    if (chain === undefined) return;
    if (status !== 'SUCCEEDED') {
      await flow.chains.stop(chain.id, chain.index, envelope.id, status, detail.error);
      return;
    }
    const [next, ...rest] = chain.next;
    if (next !== undefined && !passedOn) {
      const input = await chainInput(envelope, detail, deps);
      if (!input.ok) {
        await flow.chains.stop(chain.id, chain.index, envelope.id, 'DEAD', input.error);
        return;
      }
      await flow.chains.enqueueStep(
        chain.id,
        chain.index + 1,
        next,
        rest,
        input.value,
        envelope.correlationId,
      );
      passedOn = true;
    }
    await flow.chains.advance(chain.id, chain.index, next === undefined);
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

/**
 * After a final status write: when it applied, the job ended as intended; when it did not (the
 * lease was lost, another execution finished the job, an SDK retry of an applied write), the
 * ledger says how it ended, and only a final status there is counted. A job is counted by what
 * the ledger holds, never by a write that did not land.
 */
export async function afterWrite(
  envelope: JobEnvelope,
  intended: FinalStatus,
  recorded: boolean,
  deps: ProcessDeps,
  detail: { readonly result?: unknown; readonly resultKnown?: boolean; readonly error?: string } = {},
): Promise<void> {
  if (deps.workflow === undefined || !inWorkflow(envelope)) return;
  if (recorded) return afterFinished(envelope, intended, deps, detail);
  const record = await deps.ledger.get(envelope.id);
  const status = record?.status;
  if (status === 'SUCCEEDED' || status === 'DEAD' || status === 'CANCELLED') {
    await afterFinished(envelope, status, deps, { error: record?.lastError });
  }
}

/** The most of a step's result a chain passes on in the next step's message. */
export const CHAIN_INPUT_MAX_BYTES = 200 * 1024;

/**
 * What a succeeded step passes on: its result, from the run, or on a redelivery from the ledger
 * (which keeps results up to LEDGER_LIMITS.resultBytes inline). Not passed (the chain stops, saying
 * why): a result over CHAIN_INPUT_MAX_BYTES, or one the ledger keeps only in S3 on a redelivery.
 */
async function chainInput(
  envelope: JobEnvelope,
  detail: { readonly result?: unknown; readonly resultKnown?: boolean },
  deps: ProcessDeps,
): Promise<{ ok: true; value: unknown } | { ok: false; error: string }> {
  let value = detail.result;
  if (!detail.resultKnown) {
    const record = await deps.ledger.get(envelope.id);
    if (record?.resultRef !== undefined) {
      return {
        ok: false,
        error: `the step's result is kept in S3 (${record.resultRef}), and a chain passes on only results that fit its messages: return a smaller result (its key, for example)`,
      };
    }
    value = record?.result;
  }
  const bytes = value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value) ?? '');
  if (bytes > CHAIN_INPUT_MAX_BYTES) {
    return {
      ok: false,
      error: `the step's result is ${bytes} bytes, over the ${CHAIN_INPUT_MAX_BYTES} bytes a chain passes on to its next step: return a smaller result (a key to it, for example)`,
    };
  }
  return { ok: true, value };
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
