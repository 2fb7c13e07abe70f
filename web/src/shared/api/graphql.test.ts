import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { useAuthStore } from '../auth/authStore';
import { makeToken } from '../auth/fixtures';
import { AuthRequiredError, ForbiddenError, GraphQLError, gql, isAccessError } from './graphql';

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const UNAUTHENTICATED = { errors: [{ message: 'token expired', extensions: { code: 'UNAUTHENTICATED' } }] };

describe('gql and the token', () => {
  const fetchMock = vi.fn(async (..._args: [string, RequestInit]) => json({ data: { tenants: ['acme'] } }));
  const sentHeaders = () => fetchMock.mock.calls[0][1].headers as Record<string, string>;

  beforeEach(() => {
    localStorage.clear();
    useAuthStore.setState({ token: null, claims: null, authRequired: false, reason: null });
    fetchMock.mockClear();
    vi.stubGlobal('fetch', fetchMock);
  });
  afterEach(() => vi.unstubAllGlobals());

  it('sends `Authorization: Bearer <jwt>` when signed in', async () => {
    const token = makeToken({ role: 'finance' });
    useAuthStore.getState().signIn(token);
    await expect(gql('{ tenants }')).resolves.toEqual({ tenants: ['acme'] });
    expect(sentHeaders().authorization).toBe(`Bearer ${token}`);
    expect(sentHeaders()['content-type']).toBe('application/json');
  });

  it('sends no Authorization header without a token (auth off works as before)', async () => {
    await gql('{ tenants }');
    expect(sentHeaders()).not.toHaveProperty('authorization');
    expect(useAuthStore.getState().authRequired).toBe(false);
  });

  it('raises AuthRequiredError on 401 and asks for a token', async () => {
    fetchMock.mockResolvedValueOnce(json(UNAUTHENTICATED, 401));
    const err = await gql('{ tenants }').catch((e: Error) => e) as Error;
    expect(err).toBeInstanceOf(AuthRequiredError);
    expect(err.message).toBe('token expired');
    expect(isAccessError(err)).toBe(true);
    expect(useAuthStore.getState()).toMatchObject({ authRequired: true, reason: null });
  });

  it('drops a token the server refuses, saying why', async () => {
    useAuthStore.getState().signIn(makeToken({}));
    fetchMock.mockResolvedValueOnce(json(UNAUTHENTICATED, 401));
    await expect(gql('{ tenants }')).rejects.toBeInstanceOf(AuthRequiredError);
    expect(useAuthStore.getState()).toMatchObject({ token: null, authRequired: true, reason: 'The server refused the token: token expired' });
  });

  it('treats a 401 without a JSON body the same', async () => {
    fetchMock.mockResolvedValueOnce(new Response('nope', { status: 401 }));
    await expect(gql('{ tenants }')).rejects.toBeInstanceOf(AuthRequiredError);
    expect(useAuthStore.getState().authRequired).toBe(true);
  });

  it('raises ForbiddenError for another tenant, without asking to sign in again', async () => {
    fetchMock.mockResolvedValueOnce(json({ data: null, errors: [{ message: 'not your tenant', extensions: { code: 'FORBIDDEN' } }] }));
    const err = await gql('{ tenants }').catch((e: Error) => e) as Error;
    expect(err).toBeInstanceOf(ForbiddenError);
    expect(err.message).toBe('not your tenant');
    expect(useAuthStore.getState().authRequired).toBe(false);
  });

  it('other errors stay plain GraphQLErrors (the offline cache may stand in for them)', async () => {
    fetchMock.mockRejectedValueOnce(new TypeError('offline'));
    const err = await gql('{ tenants }').catch((e: Error) => e) as Error;
    expect(err).toBeInstanceOf(GraphQLError);
    expect(isAccessError(err)).toBe(false);
  });
});
