/** Encoding ledger values within the size bounds of LEDGER_LIMITS, and decoding items. */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  LEDGER_ATTR as A,
  JOB_STATUSES,
  type JobRecord,
  type JobStatus,
  LEDGER_LIMITS,
} from '../shared/contract';
import { describeError } from '../shared/errors';
import { truncate } from '../shared/text';
import { decodeHistory } from './history';

export type Item = Record<string, AttributeValue>;

/** `Type: message`, single line, truncated to LEDGER_LIMITS.lastErrorChars. */
export function encodeError(error: unknown): string {
  const { type, message } = describeError(error);
  return truncate(`${type}: ${message}`.replace(/\s+/g, ' '), LEDGER_LIMITS.lastErrorChars);
}

/** JSON of a result if small enough, else a JSON note saying it was omitted. */
export function encodeResult(result: unknown): string | undefined {
  if (result === undefined) return undefined;
  let json: string | undefined;
  try {
    json = JSON.stringify(result);
  } catch {
    return JSON.stringify({ omitted: 'result is not JSON-serialisable' });
  }
  if (json === undefined) return undefined;
  const bytes = Buffer.byteLength(json);
  if (bytes <= LEDGER_LIMITS.resultBytes) return json;
  return JSON.stringify({
    omitted: `result is ${bytes} bytes, over the ${LEDGER_LIMITS.resultBytes}-byte ledger limit`,
  });
}

export function encodeProgress(progress: number | Record<string, unknown>): AttributeValue {
  if (typeof progress === 'number') {
    return Number.isFinite(progress)
      ? { N: String(progress) }
      : { S: JSON.stringify({ omitted: 'not finite' }) };
  }
  const json = safeJson(progress);
  if (json !== undefined && Buffer.byteLength(json) <= LEDGER_LIMITS.progressBytes) return { S: json };
  return { S: JSON.stringify({ omitted: `progress over ${LEDGER_LIMITS.progressBytes} bytes` }) };
}

export function decodeRecord(item: Item | undefined): JobRecord | undefined {
  if (!item?.[A.jobId]?.S) return undefined;
  const s = (name: string) => item[name]?.S;
  const n = (name: string) => (item[name]?.N === undefined ? undefined : Number(item[name]?.N));
  const status = s(A.status);
  const attempts = n(A.attempts) ?? 0;
  const history = item[A.history]?.L?.flatMap((v) => (v.S === undefined ? [] : [v.S]));
  return {
    jobId: item[A.jobId].S as string,
    type: s(A.type),
    lane: s(A.lane),
    status: JOB_STATUSES.includes(status as JobStatus) ? (status as JobStatus) : undefined,
    attempts,
    enqueuedAt: s(A.enqueuedAt),
    startedAt: s(A.startedAt),
    finishedAt: s(A.finishedAt),
    updatedAt: s(A.updatedAt),
    leaseUntil: n(A.leaseUntil),
    leaseOwner: s(A.leaseOwner),
    lastError: s(A.lastError),
    result: parseJson(s(A.result)),
    progress:
      item[A.progress]?.N !== undefined ? n(A.progress) : (parseJson(s(A.progress)) as JobRecord['progress']),
    expiresAt: n(A.expiresAt),
    payloadHash: s(A.payloadHash),
    keyUntil: n(A.keyUntil),
    cancelRequestedAt: s(A.cancelRequestedAt),
    tenant: s(A.tenant),
    debounce:
      item[A.debounceSeq]?.N === undefined
        ? undefined
        : { seq: n(A.debounceSeq) ?? 0, failed: (item[A.debounceFailed]?.NS ?? []).map(Number) },
    history: history === undefined ? undefined : decodeHistory(history, attempts),
    group: s(A.group),
    resultRef: s(A.resultRef),
  };
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function safeJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}
