import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { useAuthStore } from '../auth/authStore';
import { makeToken } from '../auth/fixtures';
import { connectionParams, createLiveClient } from './ws';

/** Just enough of a browser WebSocket for graphql-ws: records what is sent, closes on demand. */
class FakeSocket {
  static all: FakeSocket[] = [];
  static OPEN = 1;
  readyState = 0;
  protocol = 'graphql-transport-ws';
  sent: { type: string; payload?: unknown }[] = [];
  onopen: (() => void) | null = null;
  onclose: ((e: { code: number; reason: string }) => void) | null = null;
  onerror: ((e: unknown) => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
    setTimeout(() => {
      this.readyState = 1;
      this.onopen?.();
    }, 0);
  }
  send(data: string) {
    const msg = JSON.parse(data);
    this.sent.push(msg);
    if (msg.type !== 'connection_init') return;
    setTimeout(() => {
      if (this.readyState === 1) this.onmessage?.({ data: JSON.stringify({ type: 'connection_ack' }) });
    }, 0);
  }
  close(code = 1000, reason = '') {
    this.serverClose(code, reason);
  }
  serverClose(code: number, reason: string) {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

describe('live client and the token', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeSocket.all = [];
    vi.stubGlobal('WebSocket', FakeSocket);
    localStorage.clear();
    useAuthStore.setState({ token: null, claims: null, authRequired: false, reason: null });
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('connectionParams carries the current token, and nothing without one', () => {
    expect(connectionParams(null)).toEqual({});
    const token = makeToken({});
    useAuthStore.getState().signIn(token);
    expect(connectionParams()).toEqual({ authorization: `Bearer ${token}` });
  });

  it('sends the token in connection_init, read again at each reconnect', async () => {
    const first = makeToken({ jti: 'a' });
    useAuthStore.getState().signIn(first);
    const client = createLiveClient(() => undefined);
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeSocket.all[0].sent[0]).toEqual({ type: 'connection_init', payload: { authorization: `Bearer ${first}` } });
    const second = makeToken({ jti: 'b' });
    useAuthStore.getState().signIn(second);
    FakeSocket.all[0].serverClose(1006, 'network'); // an outage: retried with backoff
    await vi.advanceTimersByTimeAsync(2000);
    expect(FakeSocket.all).toHaveLength(2);
    expect(FakeSocket.all[1].sent[0]).toEqual({ type: 'connection_init', payload: { authorization: `Bearer ${second}` } });
    await client.dispose();
  });

  it.each([
    [4403, 'right after connection_init (bad token)', 0],
    [4403, 'mid-session (the token expired)', 1000],
  ])('does not retry after close %i %s, and asks for a token', async (code, _when, after) => {
    const token = makeToken({});
    useAuthStore.getState().signIn(token);
    const status = vi.fn();
    const client = createLiveClient(status);
    await vi.advanceTimersByTimeAsync(after);
    if (after) expect(status).toHaveBeenLastCalledWith('live');
    FakeSocket.all[0].serverClose(code, 'token expired');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(status).toHaveBeenLastCalledWith('offline');
    expect(useAuthStore.getState()).toMatchObject({ token: null, authRequired: true, reason: 'The server refused the token: token expired' });
    await client.dispose();
  });

  it('does not retry after close 4408 either, but keeps the token (it was not refused)', async () => {
    const token = makeToken({});
    useAuthStore.getState().signIn(token);
    const client = createLiveClient(() => undefined);
    await vi.advanceTimersByTimeAsync(0);
    FakeSocket.all[0].serverClose(4408, 'Connection initialisation timeout');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(useAuthStore.getState()).toMatchObject({ token, authRequired: true, reason: 'The live connection was not set up in time (4408).' });
    await client.dispose();
  });
});
