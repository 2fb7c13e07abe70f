import { create } from 'zustand';
import { TokenError, usableClaims, type Claims } from './jwt';

export const TOKEN_KEY = 'costwatch.token';

export interface AuthState {
  token: string | null;
  claims: Claims | null;
  /**
   * The server refused a request for want of a (valid) token: show the login view. Starts false,
   * so with `--auth none` (nothing is ever refused) there is no login screen at all.
   */
  authRequired: boolean;
  /** Why the login view is shown (a rejected link or an expired session), if there is more to say. */
  reason: string | null;
}

export interface AuthActions {
  /** Stores a usable token and leaves the login view; throws a TokenError (with the reason) otherwise. */
  signIn(token: string): void;
  signOut(): void;
  /**
   * Back to the dashboard with what there is: the kept token (see `requireAuth`), or none, which is
   * enough when the server runs with `--auth none`.
   */
  dismiss(): void;
  /**
   * Called on HTTP 401 / WebSocket 4403 / 4408. `sentWith` is the token the refused request carried:
   * an answer to a request made with an older token must not sign out a newer one. `keepToken`
   * when the token itself was not refused (4408: the connection was not set up in time).
   */
  requireAuth(sentWith: string | null, reason?: string, keepToken?: boolean): void;
}

function save(token: string | null): void {
  try {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    /* private mode: the token lasts as long as the page */
  }
}

/** The stored token, if it is still usable; an expired or garbled one is removed. */
export function loadStoredToken(now = Date.now()): { token: string; claims: Claims } | null {
  let token: string | null = null;
  try {
    token = localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
  if (!token) return null;
  try {
    return { token, claims: usableClaims(token, now) };
  } catch {
    save(null);
    return null;
  }
}

const initial = loadStoredToken();

export const useAuthStore = create<AuthState & AuthActions>((set, get) => ({
  token: initial?.token ?? null,
  claims: initial?.claims ?? null,
  authRequired: false,
  reason: null,
  signIn: (raw) => {
    const token = raw.trim();
    const claims = usableClaims(token);
    save(token);
    set({ token, claims, authRequired: false, reason: null });
  },
  signOut: () => {
    save(null);
    set({ token: null, claims: null, authRequired: true, reason: null });
  },
  dismiss: () => set({ authRequired: false, reason: null }),
  requireAuth: (sentWith, reason, keepToken = false) => {
    const s = get();
    if (sentWith !== s.token || s.authRequired) return;
    if (keepToken) return set({ authRequired: true, reason: reason ?? null });
    // The server rejected this token (expired, revoked, other keys): keeping it would only fail again.
    save(null);
    set({ token: null, claims: null, authRequired: true, reason: reason ?? (sentWith ? 'Your session ended; sign in again.' : null) });
  },
}));

/**
 * `{ token, claims, signIn, signOut, authRequired }` (and `reason`, `dismiss`, `requireAuth`) for
 * components; like the other stores it takes a selector: `useAuth((s) => s.claims)`.
 */
export const useAuth = useAuthStore;

/** The current token, for code outside React (fetch, WebSocket). */
export const currentToken = (): string | null => useAuthStore.getState().token;

/** The `Authorization` header for the current token; none when signed out (or auth is off). */
export function authHeaders(token = currentToken()): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

/**
 * Takes a `#token=…` (as printed by `costwatch up`) out of the URL with `replaceState`, so it is
 * neither left in the address bar nor in the history, and returns it. Other hash parameters stay.
 */
export function takeHashToken(loc: Location = window.location, hist: History = window.history): string | null {
  const params = loc.hash.replace(/^#/, '').split('&');
  const found = params.find((p) => p.startsWith('token='));
  if (found === undefined) return null;
  const rest = params.filter((p) => p !== found && p !== '').join('&');
  hist.replaceState(hist.state, '', `${loc.pathname}${loc.search}${rest ? `#${rest}` : ''}`);
  try {
    return decodeURIComponent(found.slice('token='.length));
  } catch {
    return found.slice('token='.length);
  }
}

/** Signs in with the link's token, if the URL has one; a bad one shows the login view with the reason. */
export function captureHashToken(loc: Location = window.location, hist: History = window.history): void {
  const token = takeHashToken(loc, hist);
  if (token === null) return;
  try {
    useAuthStore.getState().signIn(token);
  } catch (e) {
    const why = e instanceof TokenError ? e.message : String(e);
    useAuthStore.setState({ token: null, claims: null, authRequired: true, reason: `The sign-in link's token cannot be used: ${why}` });
    save(null);
  }
}

/**
 * On app start: take a link's token, and keep following the URL (a new link pasted into an open
 * tab only changes the hash) and other tabs (signing in or out there applies here too).
 */
export function initAuth(): void {
  captureHashToken();
  window.addEventListener('hashchange', () => captureHashToken());
  window.addEventListener('storage', (e) => {
    if (e.key !== TOKEN_KEY) return;
    const stored = loadStoredToken();
    if (stored) useAuthStore.setState({ ...stored, authRequired: false, reason: null });
    else if (useAuthStore.getState().token) useAuthStore.getState().signOut();
  });
}
