import { useAuth } from './authStore';

/** `sub · role` and Sign out, in the header; nothing when no one is signed in (e.g. auth is off). */
export function AccountMenu() {
  const claims = useAuth((s) => s.claims);
  const signOut = useAuth((s) => s.signOut);
  if (!claims) return null;
  return (
    <span className="account" data-testid="account">
      <span className="small" data-testid="account-who" title={claims.tenants.length ? `tenants: ${claims.tenants.join(', ')}` : undefined}>
        {claims.sub ? `${claims.sub} · ${claims.role}` : claims.role}
      </span>
      <button type="button" data-testid="sign-out" onClick={signOut}>
        Sign out
      </button>
    </span>
  );
}
