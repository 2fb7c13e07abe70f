import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from './App';
import { useAuthStore } from './shared/auth/authStore';
import { makeToken } from './shared/auth/fixtures';
import { OfflineCache, memoryStore, setOfflineCache } from './shared/cache/offlineCache';
import { useUiStore } from './shared/store/uiStore';

// No sockets in jsdom: the live clients only need to exist.
vi.mock('./shared/api/ws', () => ({
  createLiveClient: () => ({ subscribe: () => () => undefined, dispose: () => Promise.resolve() }),
}));

const json = (body: unknown, status = 200) => Promise.resolve(new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } }));

describe('App and signing in', () => {
  /** What the fake server does: 'open' (`--auth none`) or 'auth' (needs a bearer token). */
  let mode: 'open' | 'auth' = 'open';
  const fetchMock = vi.fn((_url: string, init: RequestInit) => {
    const auth = (init.headers as Record<string, string>).authorization;
    if (mode === 'auth' && !auth) return json({ errors: [{ message: 'missing token', extensions: { code: 'UNAUTHENTICATED' } }] }, 401);
    const { query } = JSON.parse(String(init.body));
    if (query.includes('tenants')) return json({ data: { tenants: ['acme'] } });
    return json({ errors: [{ message: 'not in this test' }] });
  });

  beforeEach(() => {
    localStorage.clear();
    useAuthStore.setState({ token: null, claims: null, authRequired: false, reason: null });
    useUiStore.setState({ tenant: null, view: 'budgets' });
    setOfflineCache(new OfflineCache(memoryStore()));
    fetchMock.mockClear();
    vi.stubGlobal('fetch', fetchMock);
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    setOfflineCache(null);
  });

  it('with `--auth none` shows the dashboard, no login view and no account', async () => {
    mode = 'open';
    render(<App />);
    await waitFor(() => expect(useUiStore.getState().tenant).toBe('acme'));
    expect(screen.queryByTestId('login-view')).toBeNull();
    expect(screen.queryByTestId('account')).toBeNull();
    expect(screen.getByTestId('tenant-select')).toBeInTheDocument();
  });

  it('shows the login view on 401, and the dashboard with `sub · role` after signing in; Sign out goes back', async () => {
    mode = 'auth';
    render(<App />);
    expect(await screen.findByTestId('login-view')).toBeInTheDocument();
    expect(screen.queryByTestId('tenant-select')).toBeNull();

    const token = makeToken({ sub: 'ana@example.com', role: 'tenant-viewer', tenants: ['acme'] });
    fireEvent.change(screen.getByTestId('login-token'), { target: { value: token } });
    fireEvent.click(screen.getByTestId('login-submit'));
    expect(await screen.findByTestId('account-who')).toHaveTextContent('ana@example.com · tenant-viewer');
    await waitFor(() => expect(useUiStore.getState().tenant).toBe('acme'));
    const sent = fetchMock.mock.calls.at(-1)![1].headers as Record<string, string>;
    expect(sent.authorization).toBe(`Bearer ${token}`);
    expect(await screen.findByTestId('read-only-hint')).toHaveTextContent('read-only (tenant-viewer)'); // the budgets view

    act(() => fireEvent.click(screen.getByTestId('sign-out')));
    expect(screen.getByTestId('login-view')).toBeInTheDocument();
    expect(localStorage.getItem('costwatch.token')).toBeNull();
  });
});
