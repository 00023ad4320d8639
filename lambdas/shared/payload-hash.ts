/**
 * The hash stored with a keyed job, so a key reused with another payload is caught (as
 * Powertools idempotency does). Canonical JSON: object keys sorted, so `{a, b}` and `{b, a}` agree.
 */
import { createHash } from 'node:crypto';

export function payloadHash(payload: unknown): string {
  return createHash('sha256')
    .update(canonicalJson(payload) ?? 'undefined')
    .digest('hex')
    .slice(0, 32);
}

function canonicalJson(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return canonicalJson((value as { toJSON: () => unknown }).toJSON());
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v) ?? 'null').join(',')}]`;
  const entries = Object.keys(value)
    .sort()
    .flatMap((k) => {
      const json = canonicalJson((value as Record<string, unknown>)[k]);
      return json === undefined ? [] : [`${JSON.stringify(k)}:${json}`];
    });
  return `{${entries.join(',')}}`;
}
