import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuthRequiredError, ForbiddenError } from '../../shared/api/graphql';
import { useAuthStore } from '../../shared/auth/authStore';
import { makeToken } from '../../shared/auth/fixtures';
import { deleteBudget, FieldError } from './budgetApi';

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('budget mutations and the token', () => {
  const fetchMock = vi.fn(async (..._args: [string, RequestInit]) => json({ data: { deleteBudget: true } }));

  beforeEach(() => {
    localStorage.clear();
    useAuthStore.setState({ token: null, claims: null, authRequired: false, reason: null });
    fetchMock.mockClear();
    vi.stubGlobal('fetch', fetchMock);
  });
  afterEach(() => vi.unstubAllGlobals());

  it('send the bearer token', async () => {
    const token = makeToken({ role: 'tenant-admin', tenants: ['acme'] });
    useAuthStore.getState().signIn(token);
    await expect(deleteBudget('acme', 'b1')).resolves.toBe(true);
    expect((fetchMock.mock.calls[0][1].headers as Record<string, string>).authorization).toBe(`Bearer ${token}`);
  });

  it('raise AuthRequiredError on 401 and show the login view', async () => {
    fetchMock.mockResolvedValueOnce(json({ errors: [{ message: 'missing token', extensions: { code: 'UNAUTHENTICATED' } }] }, 401));
    await expect(deleteBudget('acme', 'b1')).rejects.toBeInstanceOf(AuthRequiredError);
    expect(useAuthStore.getState().authRequired).toBe(true);
  });

  it('raise ForbiddenError (not a field error) when the role may not change budgets', async () => {
    fetchMock.mockResolvedValueOnce(json({ data: null, errors: [{ message: 'tenant-viewer may not change tenant settings', extensions: { code: 'FORBIDDEN' } }] }));
    const err = await deleteBudget('acme', 'b1').catch((e) => e);
    expect(err).toBeInstanceOf(ForbiddenError);
    expect(err).not.toBeInstanceOf(FieldError);
  });
});
