/**
 * The console's guards. It listens on loopback only, and every request must carry the per-run
 * token in its URL (`?token=`): another local user, or a web page in the operator's browser, cannot
 * guess it. Requests naming a host other than loopback are refused (DNS rebinding). Mutations are
 * POSTs carrying a second per-run secret (the CSRF token) in their form, from the console's own
 * origin, and are refused outright in read-only mode.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

/** A URL-safe random secret (256 bits). */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Constant-time comparison of a presented secret with the expected one. */
export function sameSecret(given: string | undefined | null, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Host headers a loopback server answers to: `127.0.0.1:<port>`, `localhost:<port>`, `[::1]:<port>`. */
export function loopbackHosts(port: number): ReadonlySet<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
}

/**
 * Headers on every answer: scripts and styles only from the console itself (no inline script, so
 * an escaped-but-somehow-injected tag still could not run), no framing, no referrer to other sites (the
 * URL holds the token), nothing cached.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; '),
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  // Not no-referrer: with it browsers send `Origin: null` on form POSTs, which the origin check refuses.
  'Referrer-Policy': 'same-origin',
  'Cache-Control': 'no-store',
  'Cross-Origin-Resource-Policy': 'same-origin',
};
