import { useAuthStore } from './shared/auth/authStore';
import type { Claims } from './shared/auth/jwt';
import { useCostStore } from './shared/store/costStore';
import { useUiStore } from './shared/store/uiStore';

const identity = (c: Claims | null) => (c ? JSON.stringify([c.sub, c.role, [...c.tenants].sort()]) : null);

/**
 * When someone else signs in in this tab, forgets the selected tenant and the loaded costs, so
 * the new user never sees (even for a moment) what the previous one had on screen, nor starts
 * on a tenant they may not see. Signing in again as the same user keeps the selection.
 * Returns the unsubscribe function.
 */
export function clearDataOnUserChange(): () => void {
  let last = identity(useAuthStore.getState().claims);
  return useAuthStore.subscribe((s) => {
    const now = identity(s.claims);
    if (now === null || now === last) return; // signed out or the same user: nothing shown to anyone else yet
    const changed = last !== null;
    last = now;
    if (!changed) return;
    useUiStore.setState({ tenant: null, drill: [] });
    useCostStore.getState().dispatch({ type: 'reset' });
  });
}
