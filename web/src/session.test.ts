import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clearDataOnUserChange } from './session';
import { useAuthStore } from './shared/auth/authStore';
import { makeToken } from './shared/auth/fixtures';
import { initialCostState, useCostStore } from './shared/store/costStore';
import { useUiStore } from './shared/store/uiStore';

const SUMMARY = { total: { amount: '1', currency: 'USD' } } as never;

describe('clearDataOnUserChange', () => {
  let stop = () => {};
  beforeEach(() => {
    localStorage.clear();
    useAuthStore.setState({ token: null, claims: null, authRequired: false, reason: null });
    useAuthStore.getState().signIn(makeToken({ sub: 'admin', role: 'admin' }));
    stop = clearDataOnUserChange();
    useUiStore.setState({ tenant: 'acme', drill: ['compute'] });
    useCostStore.setState({ currentCosts: SUMMARY });
  });
  afterEach(() => {
    stop();
    useCostStore.setState(initialCostState);
  });

  it('forgets the tenant and the loaded costs when someone else signs in', () => {
    useAuthStore.getState().signOut();
    expect(useUiStore.getState().tenant).toBe('acme'); // nobody else sees it behind the login view
    useAuthStore.getState().signIn(makeToken({ sub: 'bob', role: 'tenant-viewer', tenants: ['globex'] }));
    expect(useUiStore.getState()).toMatchObject({ tenant: null, drill: [] });
    expect(useCostStore.getState().currentCosts).toBeNull();
  });

  it('keeps them when the same user signs in again (e.g. with a fresh token)', () => {
    useAuthStore.getState().signIn(makeToken({ sub: 'admin', role: 'admin', jti: 'fresh' }));
    expect(useUiStore.getState().tenant).toBe('acme');
    expect(useCostStore.getState().currentCosts).toBe(SUMMARY);
  });
});
