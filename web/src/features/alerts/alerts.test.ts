import { beforeEach, describe, expect, it } from 'vitest';
import { filterAlerts, formatTime, mergeAlert, openCount, reconcileAlerts } from './alertList';
import { initialAlertState, useAlertStore } from './alertStore';
import { alert, moved } from './fixtures';

const ids = (list: { id: string }[]) => list.map((a) => a.id);

describe('mergeAlert', () => {
  const a1 = alert('a1', { triggeredAt: '2026-01-20T10:00:00Z' });
  const a2 = alert('a2', { triggeredAt: '2026-01-21T10:00:00Z' });

  it('puts new alerts first', () => {
    expect(ids(mergeAlert(mergeAlert([], a1), a2))).toEqual(['a2', 'a1']);
    expect(ids(mergeAlert(mergeAlert([], a2), a1))).toEqual(['a2', 'a1']);
  });
  it('replaces the same id with its newer transition, keeping its place', () => {
    const acked = moved(a1, 'ACKNOWLEDGED', '2026-01-22T00:00:00Z');
    const list = mergeAlert([a2, a1], acked);
    expect(ids(list)).toEqual(['a2', 'a1']);
    expect(list[1].state).toBe('ACKNOWLEDGED');
    expect(list[1].history).toHaveLength(2);
  });
  it('ignores re-deliveries and older transitions', () => {
    const list = [a2, a1];
    expect(mergeAlert(list, { ...a1 })).toBe(list);
    const resolved = moved(a1, 'RESOLVED', '2026-01-23T00:00:00Z');
    const after = mergeAlert(list, resolved);
    const acked = moved(a1, 'ACKNOWLEDGED', '2026-01-22T00:00:00Z');
    expect(mergeAlert(after, acked)).toBe(after); // arrived late: the resolution stays
    expect(mergeAlert(after, resolved)).toBe(after);
    expect(after.filter((a) => a.id === 'a1')).toHaveLength(1);
  });
});

describe('reconcileAlerts', () => {
  const a1 = alert('a1', { triggeredAt: '2026-01-20T10:00:00Z' });
  const a2 = alert('a2', { triggeredAt: '2026-01-21T10:00:00Z' });
  const a3 = alert('a3', { triggeredAt: '2026-01-22T10:00:00Z', state: 'RESOLVED' });

  it('drops entries of the queried state the answer no longer has', () => {
    expect(ids(reconcileAlerts([a3, a2, a1], [a1], 'TRIGGERED'))).toEqual(['a3', 'a1']);
    expect(ids(reconcileAlerts([a3, a2, a1], [a1], null))).toEqual(['a1']);
  });
  it('keeps ids pushed after the query was sent, and everything when the answer hit the limit', () => {
    expect(ids(reconcileAlerts([a2, a1], [a1], 'TRIGGERED', new Set(['a2'])))).toEqual(['a2', 'a1']);
    expect(ids(reconcileAlerts([a2, a1], [a1], 'TRIGGERED', new Set(), 1))).toEqual(['a2', 'a1']);
  });
  it('counts and filters by state', () => {
    const list = [a3, a2, a1];
    expect(openCount(list)).toBe(2);
    expect(ids(filterAlerts(list, 'RESOLVED'))).toEqual(['a3']);
    expect(filterAlerts(list, null)).toBe(list);
  });
  it('formats times in UTC', () => {
    expect(formatTime('2026-01-20T12:30:59+02:00')).toBe('2026-01-20 10:30 UTC');
    expect(formatTime('soon')).toBe('soon');
  });
});

describe('alert store', () => {
  beforeEach(() => useAlertStore.setState(initialAlertState));

  it('takes live alerts of its tenant only, counting open ones and bumping the version', () => {
    const s = useAlertStore.getState();
    s.setTenant('acme');
    s.receive(alert('a1'));
    s.receive(alert('x', { tenant: 'other' }));
    s.receive(alert('a1')); // re-delivery
    expect(ids(useAlertStore.getState().alerts)).toEqual(['a1']);
    expect(useAlertStore.getState().open).toBe(1);
    expect(useAlertStore.getState().version).toBe(2);
    s.receive(moved(alert('a1'), 'ACKNOWLEDGED', '2026-01-21T00:00:00Z'), false);
    expect(useAlertStore.getState()).toMatchObject({ open: 0, version: 2 });
    s.setTenant('beta');
    expect(useAlertStore.getState()).toMatchObject({ tenant: 'beta', alerts: [], open: 0 });
  });
  it('does not let an answer sent before a push drop the pushed alert', () => {
    const s = useAlertStore.getState();
    s.setTenant('acme');
    const sentAt = Date.now() - 1000;
    s.receive(alert('a2'));
    s.reconcile('acme', [alert('a1')], 'TRIGGERED', sentAt);
    expect(ids(useAlertStore.getState().alerts).sort()).toEqual(['a1', 'a2']);
    s.reconcile('acme', [alert('a1')], 'TRIGGERED', Date.now() + 1000);
    expect(ids(useAlertStore.getState().alerts)).toEqual(['a1']);
    s.reconcile('other', [], null, Date.now());
    expect(useAlertStore.getState().open).toBe(1);
  });
});
