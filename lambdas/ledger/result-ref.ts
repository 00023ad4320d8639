/**
 * The S3 result reference of a SUCCEEDED write (LEDGER_ATTR.resultRef): a result over the ledger's
 * inline limit is stored in S3 by the consumer, and the item keeps only its key.
 */
import { LEDGER_ATTR as A } from '../shared/contract';
import { S, type Update } from './update';

/**
 * With a `resultRef`, store it and remove any inline `result` (the caller leaves `result` unset);
 * without one, remove a reference an earlier run left, so it cannot shadow this run's result.
 */
export function setResultRef(u: Update, resultRef: string | undefined): Update {
  if (resultRef === undefined) return u.remove(A.resultRef);
  return u.set(A.resultRef, S(resultRef)).remove(A.result);
}
