import { createClient, type Client } from 'graphql-ws';
import { currentToken, useAuthStore } from '../auth/authStore';

export type LiveStatus = 'connecting' | 'live' | 'offline';

/** Exponential backoff with jitter: 1s, 2s, 4s … capped at 30s. */
export function backoffDelay(retries: number, random = Math.random): number {
  const base = Math.min(30_000, 1000 * 2 ** retries);
  return Math.round(base * (0.75 + random() * 0.5));
}

export function wsUrl(loc: Location = window.location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/graphql/ws`;
}

/** Close codes of a refused `connection_init`: 4403 bad/missing/expired token, 4408 no init in time. */
export const AUTH_CLOSE_CODES = [4403, 4408];

const isAuthClose = (e: unknown): boolean =>
  typeof e === 'object' && e !== null && AUTH_CLOSE_CODES.includes((e as { code?: unknown }).code as number);

/**
 * The `connection_init` payload: the current token, read at every (re)connect so a reconnect
 * after signing in again carries the new one. Empty when signed out (or auth is off).
 */
export function connectionParams(token = currentToken()): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

/**
 * A graphql-ws client that reconnects with exponential backoff and reports its status (and the
 * delay before the next attempt) through `onStatus`. It gives up only when the server refuses
 * the token (4403 / 4408): retrying cannot help, so the app shows the login view instead, and
 * signing in mounts the app (and so its clients) afresh.
 */
export function createLiveClient(onStatus: (s: LiveStatus, retryInMs?: number) => void): Client {
  // The token of the latest connection_init, so a refusal is pinned on the token it refused.
  let sent: string | null = null;
  return createClient({
    url: wsUrl(),
    lazy: false,
    keepAlive: 10_000,
    connectionParams: () => {
      sent = currentToken();
      return connectionParams(sent);
    },
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: (e) => !isAuthClose(e),
    // A refused token is handled by the login view, not worth a console error.
    onNonLazyError: (e) => {
      if (!isAuthClose(e)) console.error(e);
    },
    retryWait: async (retries) => {
      const delay = backoffDelay(retries);
      onStatus('offline', delay);
      await new Promise((r) => setTimeout(r, delay));
      onStatus('connecting');
    },
    on: {
      connecting: () => onStatus('connecting'),
      connected: () => onStatus('live'),
      closed: (e) => {
        onStatus('offline');
        if (!isAuthClose(e)) return;
        const { code, reason: why } = e as CloseEvent;
        if (code === 4408) {
          // Not a verdict on the token: keep it, so "Continue" can simply connect again.
          useAuthStore.getState().requireAuth(sent, 'The live connection was not set up in time (4408).', true);
        } else useAuthStore.getState().requireAuth(sent, sent && why ? `The server refused the token: ${why}` : undefined);
      },
      error: () => onStatus('offline'),
    },
  });
}
