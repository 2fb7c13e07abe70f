import { describe, expect, it } from 'vitest';
import { base64Url, HOUR_AGO, makeToken } from './fixtures';
import { canEdit, decodeClaims, isExpired, TokenError, usableClaims, type Claims } from './jwt';

const problem = (token: string) => {
  try {
    usableClaims(token);
    return null;
  } catch (e) {
    expect(e).toBeInstanceOf(TokenError);
    return (e as Error).message;
  }
};

describe('decodeClaims', () => {
  it('reads sub, role, tenants and exp from the base64url payload', () => {
    const t = makeToken({ sub: 'zoë@example.com', role: 'tenant-viewer', tenants: ['acme', 'globex'], exp: 2_000_000_000 });
    expect(decodeClaims(t)).toEqual({ sub: 'zoë@example.com', role: 'tenant-viewer', tenants: ['acme', 'globex'], exp: 2_000_000_000 });
  });

  it('decodes base64url that uses - and _ and needs padding', () => {
    // {"role":"finance","n":"ÿÿ"}: "_" where base64 has "/", and 3 chars short of a multiple of 4.
    const payload = 'eyJyb2xlIjoiZmluYW5jZSIsIm4iOiLDv8O_In0';
    expect(base64Url('{"role":"finance","n":"ÿÿ"}')).toBe(payload);
    expect(decodeClaims(`aGVhZGVy.${payload}.c2ln`)).toEqual({ sub: '', role: 'finance', tenants: [], exp: null });
  });

  it('names what is wrong with a malformed token', () => {
    expect(problem('abc')).toMatch(/3 parts .* this one has 1/);
    expect(problem('a.b.c.d')).toMatch(/has 4/);
    expect(problem('aGVhZGVy..c2ln')).toMatch(/payload \(part 2\) is empty/);
    expect(problem('aGVhZGVy.ab+c.c2ln')).toMatch(/payload \(part 2\) is not base64url/);
    expect(problem(`aGVhZGVy.${base64Url('not json')}.c2ln`)).toMatch(/does not decode to JSON/);
    expect(problem(`aGVhZGVy.${base64Url('[1]')}.c2ln`)).toMatch(/not a JSON object/);
    expect(problem(`aGVhZGVy.${base64Url('{"sub":"ana"}')}.c2ln`)).toMatch(/no "role" claim/);
    expect(problem(makeToken({ role: 'root' }))).toMatch(/"root" is not a role/);
    expect(problem(makeToken({ exp: 'soon' }))).toMatch(/"exp" claim is not a number/);
  });

  it('refuses an expired token, saying when it expired', () => {
    expect(problem(makeToken({ exp: 1_700_000_000 }))).toBe('This token expired at 2023-11-14T22:13:20Z; mint a new one with `costwatch token`.');
    expect(isExpired(decodeClaims(makeToken({ exp: HOUR_AGO() })))).toBe(true);
    expect(isExpired({ sub: '', role: 'admin', tenants: [], exp: null })).toBe(false);
  });

  it('refuses an ingest token, which can read nothing', () => {
    expect(problem(makeToken({ role: 'ingest', tenants: ['acme'] }))).toMatch(/ingest token can only send usage events/);
  });

  it('accepts a well-formed token, surrounding whitespace included', () => {
    expect(problem(`  ${makeToken({ role: 'tenant-admin', tenants: ['acme'] })}\n`)).toBeNull();
  });
});

describe('canEdit', () => {
  const as = (role: Claims['role']): Claims => ({ sub: 'x', role, tenants: ['acme'], exp: null });
  it('is true without claims (auth off) and for roles that may change things', () => {
    expect(canEdit(null)).toBe(true);
    expect(canEdit(as('admin'))).toBe(true);
    expect(canEdit(as('finance'))).toBe(true);
    expect(canEdit(as('tenant-admin'))).toBe(true);
  });
  it('is false for tenant-viewer and ingest', () => {
    expect(canEdit(as('tenant-viewer'))).toBe(false);
    expect(canEdit(as('ingest'))).toBe(false);
  });
});
