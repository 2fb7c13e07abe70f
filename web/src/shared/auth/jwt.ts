/**
 * Reading (not verifying) a JWT's payload. The server verifies every token on every request; the
 * dashboard only needs the claims to label the header, hide controls a role cannot use and drop a
 * token that has already expired. No library: a payload is base64url-encoded JSON.
 */

export const ROLES = ['admin', 'finance', 'tenant-admin', 'tenant-viewer', 'ingest'] as const;
export type Role = (typeof ROLES)[number];

export interface Claims {
  sub: string;
  role: Role;
  /** Ignored by the server for admin and finance, which see every tenant. */
  tenants: string[];
  /** Unix seconds; absent means the token does not expire. */
  exp: number | null;
}

/** Why a token cannot be used; the message says what is wrong with it. */
export class TokenError extends Error {}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

function base64UrlDecode(part: string): string {
  const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  // atob gives one char per byte; the payload is UTF-8 (e.g. a `sub` with accents).
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

/** The claims of `token`, or a TokenError naming the first problem (shape, encoding, claims). */
export function decodeClaims(token: string): Claims {
  const parts = token.trim().split('.');
  if (parts.length !== 3) throw new TokenError(`A token has 3 parts separated by dots (header.payload.signature); this one has ${parts.length}.`);
  const names = ['header', 'payload', 'signature'];
  parts.forEach((p, i) => {
    if (!BASE64URL.test(p)) throw new TokenError(`The ${names[i]} (part ${i + 1}) is ${p ? 'not base64url text' : 'empty'}.`);
  });
  let payload: unknown;
  try {
    payload = JSON.parse(base64UrlDecode(parts[1]));
  } catch {
    throw new TokenError('The payload (part 2) does not decode to JSON; was the token copied whole?');
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new TokenError('The payload (part 2) is not a JSON object.');
  const p = payload as Record<string, unknown>;
  if (typeof p.role !== 'string' || !p.role) throw new TokenError('The payload has no "role" claim.');
  if (!(ROLES as readonly string[]).includes(p.role)) throw new TokenError(`"${p.role}" is not a role; one of: ${ROLES.join(', ')}.`);
  if (p.exp !== undefined && typeof p.exp !== 'number') throw new TokenError('The "exp" claim is not a number of seconds.');
  const tenants = Array.isArray(p.tenants) ? p.tenants.filter((t): t is string => typeof t === 'string') : [];
  return { sub: typeof p.sub === 'string' ? p.sub : '', role: p.role as Role, tenants, exp: typeof p.exp === 'number' ? p.exp : null };
}

export function isExpired(claims: Claims, nowMs = Date.now()): boolean {
  return claims.exp !== null && claims.exp * 1000 <= nowMs;
}

/** The claims of a token the dashboard can sign in with, or a TokenError saying why not. */
export function usableClaims(token: string, nowMs = Date.now()): Claims {
  const claims = decodeClaims(token);
  if (isExpired(claims, nowMs)) {
    const at = new Date(claims.exp! * 1000).toISOString().replace('.000Z', 'Z');
    throw new TokenError(`This token expired at ${at}; mint a new one with \`costwatch token\`.`);
  }
  // The server would refuse every dashboard query for it: better said now than as empty views.
  if (claims.role === 'ingest') throw new TokenError('An ingest token can only send usage events; the dashboard needs a reading role (admin, finance, tenant-admin or tenant-viewer).');
  return claims;
}

/** Roles that may change things (budgets, notes, anomaly feedback, alerts). No claims means auth is off. */
export function canEdit(claims: Claims | null): boolean {
  return !claims || claims.role === 'admin' || claims.role === 'finance' || claims.role === 'tenant-admin';
}
