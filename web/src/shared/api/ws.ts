import { createClient, type Client } from 'graphql-ws';

export type LiveStatus = 'connecting' | 'live' | 'offline';

/** Exponential backoff with jitter: 1s, 2s, 4s … capped at 30s. */
export function backoffDelay(retries: number, random = Math.random): number {
  const base = Math.min(30_000, 1000 * 2 ** retries);
  return Math.round(base * (0.75 + random() * 0.5));
}

export function wsUrl(loc: Location = window.location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/graphql/ws`;
}

/**
 * A graphql-ws client that never gives up: it reconnects with exponential backoff and reports
 * its status (and the delay before the next attempt) through `onStatus`.
 */
export function createLiveClient(onStatus: (s: LiveStatus, retryInMs?: number) => void): Client {
  return createClient({
    url: wsUrl(),
    lazy: false,
    keepAlive: 10_000,
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: () => true,
    retryWait: async (retries) => {
      const delay = backoffDelay(retries);
      onStatus('offline', delay);
      await new Promise((r) => setTimeout(r, delay));
      onStatus('connecting');
    },
    on: {
      connecting: () => onStatus('connecting'),
      connected: () => onStatus('live'),
      closed: () => onStatus('offline'),
      error: () => onStatus('offline'),
    },
  });
}
