/** Test tokens: real JWT shape, unsigned (the dashboard never checks signatures; the server does). */

export function base64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A token for `claims`; expires in an hour unless `exp` says otherwise. */
export function makeToken(claims: Record<string, unknown>): string {
  const payload = { sub: 'ana', role: 'admin', tenants: [], exp: Math.floor(Date.now() / 1000) + 3600, iss: 'costwatch', aud: 'costwatch', jti: 't1', ...claims };
  return `${base64Url(JSON.stringify({ alg: 'ES256', typ: 'JWT' }))}.${base64Url(JSON.stringify(payload))}.c2lnbmF0dXJl`;
}

export const HOUR_AGO = () => Math.floor(Date.now() / 1000) - 3600;
