/** Building and reading the versioned message envelope (see `JobEnvelope` in contract.ts). */
import { createHash, randomUUID } from 'node:crypto';
import { ENVELOPE_VERSION, type JobEnvelope } from './contract';
import { MalformedMessageError, UnsupportedEnvelopeVersionError } from './errors';

/** Longest job id accepted (DynamoDB allows 2 KB keys; ids this long would bloat every item). */
export const MAX_JOB_ID_LENGTH = 512;

/**
 * Deterministic job id for an idempotency key: the same type + key always maps to the same ledger
 * item. Hashed so keys (which may hold user data) never appear in ids, logs or schedule names.
 */
export function jobIdForKey(type: string, key: string): string {
  return `k-${createHash('sha256').update(type).update('\n').update(key).digest('hex').slice(0, 40)}`;
}

/** A fresh job id for an unkeyed job. */
export function newJobId(): string {
  return randomUUID();
}

export interface EnvelopeInput<P> {
  readonly id: string;
  readonly type: string;
  readonly payload: P;
  readonly key?: string;
  readonly correlationId?: string;
  readonly tenant?: string;
  readonly enqueuedAt?: Date;
}

export function createEnvelope<P>(input: EnvelopeInput<P>): JobEnvelope<P> {
  return {
    v: ENVELOPE_VERSION,
    id: input.id,
    type: input.type,
    payload: input.payload,
    ...(input.key === undefined ? {} : { key: input.key }),
    enqueuedAt: (input.enqueuedAt ?? new Date()).toISOString(),
    ...(input.correlationId === undefined ? {} : { correlationId: input.correlationId }),
    ...(input.tenant === undefined ? {} : { tenant: input.tenant }),
  };
}

/** Result of reading a body: the envelope, or the permanent error plus whatever ids were readable. */
export type EnvelopeReadResult =
  | { readonly ok: true; readonly envelope: JobEnvelope }
  | { readonly ok: false; readonly error: Error; readonly id?: string; readonly type?: string };

/** Parse a message body into an envelope without throwing. */
export function readEnvelope(body: string): EnvelopeReadResult {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (cause) {
    return { ok: false, error: new MalformedMessageError('Message body is not valid JSON', { cause }) };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, error: new MalformedMessageError('Message body is not a JSON object') };
  }
  const o = raw as Record<string, unknown>;
  const id = validId(o.id) ? o.id : undefined;
  const type = typeof o.type === 'string' && o.type.length > 0 ? o.type : undefined;
  if (o.v !== ENVELOPE_VERSION) {
    return { ok: false, error: new UnsupportedEnvelopeVersionError(o.v, ENVELOPE_VERSION), id, type };
  }
  const problem =
    (!id && `'id' must be a non-empty string of at most ${MAX_JOB_ID_LENGTH} characters`) ||
    (!type && "'type' must be a non-empty string") ||
    (!('payload' in o) && "'payload' is missing") ||
    (typeof o.enqueuedAt !== 'string' && "'enqueuedAt' must be an ISO-8601 string") ||
    (o.key !== undefined && typeof o.key !== 'string' && "'key' must be a string") ||
    (o.correlationId !== undefined &&
      typeof o.correlationId !== 'string' &&
      "'correlationId' must be a string") ||
    (o.tenant !== undefined && typeof o.tenant !== 'string' && "'tenant' must be a string") ||
    (o.debounce !== undefined &&
      !(
        typeof o.debounce === 'object' &&
        o.debounce !== null &&
        Number.isSafeInteger((o.debounce as { seq?: unknown }).seq) &&
        ((o.debounce as { seq: number }).seq ?? 0) > 0
      ) &&
      "'debounce' must be an object { seq } with a positive integer seq") ||
    (o.completion !== undefined &&
      (typeof o.completion !== 'object' || o.completion === null || Array.isArray(o.completion)) &&
      "'completion' must be an object") ||
    (o.group !== undefined &&
      !(
        isObject(o.group) &&
        typeof o.group.id === 'string' &&
        o.group.id.length > 0 &&
        Number.isSafeInteger(o.group.shard) &&
        (o.group.shard as number) >= 0 &&
        Number.isSafeInteger(o.group.index) &&
        (o.group.index as number) >= 0
      ) &&
      "'group' must be an object { id, shard, index } with a non-empty string id and integers shard and index ≥ 0") ||
    (o.chain !== undefined &&
      !(
        isObject(o.chain) &&
        typeof o.chain.id === 'string' &&
        o.chain.id.length > 0 &&
        Number.isSafeInteger(o.chain.index) &&
        (o.chain.index as number) >= 0 &&
        Array.isArray(o.chain.next)
      ) &&
      "'chain' must be an object { id, index, next } with a non-empty string id, an integer index ≥ 0 and an array next");
  if (problem)
    return { ok: false, error: new MalformedMessageError(`Invalid job envelope: ${problem}`), id, type };
  return { ok: true, envelope: o as unknown as JobEnvelope };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function validId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_JOB_ID_LENGTH;
}
