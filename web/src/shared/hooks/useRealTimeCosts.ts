import { useEffect, useRef } from 'react';
import type { Client } from 'graphql-ws';
import { COST_UPDATES } from '../api/queries';
import { createLiveClient } from '../api/ws';
import { useUiStore } from '../store/uiStore';

/** Pushes arriving within this window cause one refetch (at its end), so a busy stream cannot starve it. */
export const LIVE_COALESCE_MS = 500;

/**
 * Keeps one WebSocket to `/graphql/ws` (reconnecting with backoff), subscribes to the tenant's
 * `costUpdates`, and bumps `liveVersion` — coalesced — on each push, when the connection is lost
 * and after each reconnect.
 */
export function useRealTimeCosts(tenant: string | null): void {
  const client = useRef<Client | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const bump = useRef(() => {
    if (timer.current !== undefined) return;
    timer.current = setTimeout(() => {
      timer.current = undefined;
      useUiStore.getState().bumpLive();
    }, LIVE_COALESCE_MS);
  });

  useEffect(() => {
    const { setLive } = useUiStore.getState();
    let wasOffline = false;
    client.current = createLiveClient((status, retryIn) => {
      setLive(status, retryIn);
      if (status === 'offline' && !wasOffline) {
        wasOffline = true;
        // Refetch once: the fetches fail, so every section falls back to its cached answer and
        // says how old it is, instead of silently showing numbers that no longer update.
        bump.current();
      }
      if (status === 'live' && wasOffline) {
        wasOffline = false;
        bump.current(); // catch up on what happened while disconnected
      }
    });
    return () => {
      clearTimeout(timer.current);
      timer.current = undefined;
      void client.current?.dispose();
      client.current = null;
    };
  }, []);

  useEffect(() => {
    const c = client.current;
    if (!c || !tenant) return;
    return c.subscribe(
      { query: COST_UPDATES, variables: { tenant } },
      { next: () => bump.current(), error: () => undefined, complete: () => undefined },
    );
  }, [tenant]);
}
