import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { captureHashToken, loadStoredToken, takeHashToken, TOKEN_KEY, useAuthStore } from './authStore';
import { HOUR_AGO, makeToken } from './fixtures';

const reset = () => useAuthStore.setState({ token: null, claims: null, authRequired: false, reason: null });

describe('takeHashToken / captureHashToken', () => {
  beforeEach(() => {
    localStorage.clear();
    reset();
  });
  afterEach(() => window.history.replaceState(null, '', '/'));

  it('stores the token of a `costwatch up` link and removes it from the URL', () => {
    const token = makeToken({ sub: 'admin', role: 'admin' });
    window.history.pushState(null, '', `/?x=1#token=${token}`);
    const replace = vi.spyOn(window.history, 'replaceState');
    captureHashToken();
    expect(replace).toHaveBeenCalledTimes(1); // replaced, not pushed: the link is not in the history either
    expect(window.location.href).toBe('http://localhost:3000/?x=1');
    expect(localStorage.getItem(TOKEN_KEY)).toBe(token);
    expect(useAuthStore.getState()).toMatchObject({ token, authRequired: false, claims: { sub: 'admin', role: 'admin' } });
    replace.mockRestore();
  });

  it('keeps other hash parameters and leaves a URL without a token alone', () => {
    window.history.replaceState(null, '', '/#view=budgets&token=abc');
    expect(takeHashToken()).toBe('abc');
    expect(window.location.hash).toBe('#view=budgets');
    expect(takeHashToken()).toBeNull();
    expect(window.location.hash).toBe('#view=budgets');
  });

  it('shows the login view, with the reason, for a link whose token expired', () => {
    window.history.replaceState(null, '', `/#token=${makeToken({ exp: HOUR_AGO() })}`);
    captureHashToken();
    expect(window.location.hash).toBe('');
    expect(localStorage.getItem(TOKEN_KEY)).toBeNull();
    const s = useAuthStore.getState();
    expect(s.token).toBeNull();
    expect(s.authRequired).toBe(true);
    expect(s.reason).toMatch(/sign-in link's token cannot be used: This token expired/);
  });
});

describe('stored token', () => {
  beforeEach(() => {
    localStorage.clear();
    reset();
  });

  it('is used while it is valid', () => {
    const token = makeToken({ role: 'finance' });
    localStorage.setItem(TOKEN_KEY, token);
    expect(loadStoredToken()).toMatchObject({ token, claims: { role: 'finance' } });
  });

  it('is dropped once expired (and when garbled)', () => {
    localStorage.setItem(TOKEN_KEY, makeToken({ exp: HOUR_AGO() }));
    expect(loadStoredToken()).toBeNull();
    expect(localStorage.getItem(TOKEN_KEY)).toBeNull();
    localStorage.setItem(TOKEN_KEY, 'garbage');
    expect(loadStoredToken()).toBeNull();
    expect(localStorage.getItem(TOKEN_KEY)).toBeNull();
  });
});

describe('useAuthStore', () => {
  beforeEach(() => {
    localStorage.clear();
    reset();
  });

  it('signIn stores the token; signOut clears it and asks for a new one', () => {
    const token = makeToken({ role: 'tenant-admin', tenants: ['acme'] });
    useAuthStore.getState().signIn(token);
    expect(localStorage.getItem(TOKEN_KEY)).toBe(token);
    useAuthStore.getState().signOut();
    expect(localStorage.getItem(TOKEN_KEY)).toBeNull();
    expect(useAuthStore.getState()).toMatchObject({ token: null, claims: null, authRequired: true });
  });

  it('signIn refuses a bad token and keeps the current one', () => {
    const token = makeToken({});
    useAuthStore.getState().signIn(token);
    expect(() => useAuthStore.getState().signIn('nope')).toThrow(/3 parts/);
    expect(useAuthStore.getState().token).toBe(token);
  });

  it('requireAuth drops the refused token, but ignores a refusal of an older one', () => {
    const older = makeToken({ jti: 'old' });
    const newer = makeToken({ jti: 'new' });
    useAuthStore.getState().signIn(newer);
    useAuthStore.getState().requireAuth(older);
    expect(useAuthStore.getState()).toMatchObject({ token: newer, authRequired: false });
    useAuthStore.getState().requireAuth(newer, 'token expired');
    expect(useAuthStore.getState()).toMatchObject({ token: null, authRequired: true, reason: 'token expired' });
    expect(localStorage.getItem(TOKEN_KEY)).toBeNull();
  });
});
