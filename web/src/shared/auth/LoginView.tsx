import { useState } from 'react';
import { useAuthStore } from './authStore';
import { TokenError } from './jwt';

/**
 * Shown instead of the dashboard when the server wants a token. Signing in checks the token's
 * shape, role and expiry here (the server checks the signature); a success mounts the dashboard.
 */
export function LoginView() {
  const reason = useAuthStore((s) => s.reason);
  const signIn = useAuthStore((s) => s.signIn);
  const dismiss = useAuthStore((s) => s.dismiss);
  const kept = useAuthStore((s) => s.claims);
  const [text, setText] = useState('');
  const [problem, setProblem] = useState<string | null>(null);

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    // Pasting the whole link printed by `costwatch up` works too.
    const token = text.trim().replace(/^.*#token=/, '');
    if (!token) return setProblem('Paste a token first.');
    try {
      signIn(token);
    } catch (err) {
      setProblem(err instanceof TokenError ? err.message : String(err));
    }
  };

  return (
    <div className="app login">
      <header className="header">
        <h1>Costwatch</h1>
      </header>
      <main className="panel login-panel" data-testid="login-view">
        <h2>Sign in</h2>
        {reason && (
          <p className="error" role="status" data-testid="login-reason">
            {reason}
          </p>
        )}
        <p>
          Open the link printed by <code>costwatch up</code>, or paste a token from{' '}
          <code>costwatch token --tenant T --role R</code>.
        </p>
        <form onSubmit={submit} aria-label="Sign in with a token">
          <label htmlFor="login-token">Token</label>
          <textarea
            id="login-token"
            data-testid="login-token"
            rows={5}
            spellCheck={false}
            autoComplete="off"
            placeholder="eyJhbGciOi…"
            value={text}
            aria-invalid={problem ? true : undefined}
            aria-describedby={problem ? 'login-error' : undefined}
            onChange={(e) => {
              setText(e.target.value);
              setProblem(null);
            }}
          />
          {problem && (
            <p id="login-error" className="field-error" role="alert" data-testid="login-error">
              {problem}
            </p>
          )}
          <div className="toolbar">
            <button type="submit" data-testid="login-submit">
              Sign in
            </button>
            {/* The way back after a 4408 (the token is kept), or after signing out of a server that needs no token. */}
            <button type="button" className="link" data-testid="login-skip" onClick={dismiss}>
              {kept ? `Continue as ${kept.sub || kept.role}` : 'Continue without a token'}
            </button>
          </div>
        </form>
      </main>
    </div>
  );
}
