import { useAuthStore } from './authStore';
import { canEdit } from './jwt';

/** Whether the signed-in role may change things; true when auth is off (no claims). */
export function useCanEdit(): boolean {
  return canEdit(useAuthStore((s) => s.claims));
}

/** Says why the controls that change things are missing, for roles that may only read. */
export function ReadOnlyHint() {
  const claims = useAuthStore((s) => s.claims);
  if (canEdit(claims)) return null;
  return (
    <span className="muted small read-only-hint" data-testid="read-only-hint" title="This token may read but not change anything">
      read-only ({claims?.role})
    </span>
  );
}
