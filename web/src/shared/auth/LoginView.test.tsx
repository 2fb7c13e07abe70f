import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TOKEN_KEY, useAuthStore } from './authStore';
import { base64Url, HOUR_AGO, makeToken } from './fixtures';
import { LoginView } from './LoginView';

const paste = (text: string) => {
  fireEvent.change(screen.getByTestId('login-token'), { target: { value: text } });
  fireEvent.click(screen.getByTestId('login-submit'));
};

describe('LoginView', () => {
  beforeEach(() => {
    localStorage.clear();
    useAuthStore.setState({ token: null, claims: null, authRequired: true, reason: null });
  });
  afterEach(cleanup);

  it('says where a token comes from', () => {
    render(<LoginView />);
    expect(screen.getByTestId('login-view')).toHaveTextContent(
      'Open the link printed by costwatch up, or paste a token from costwatch token --tenant T --role R.',
    );
  });

  it.each([
    ['', 'Paste a token first.'],
    ['not-a-token', 'A token has 3 parts separated by dots (header.payload.signature); this one has 1.'],
    ['aGVhZGVy.%%%.c2ln', 'The payload (part 2) is not base64url text.'],
    [`aGVhZGVy.${base64Url('{"role":')}.c2ln`, 'The payload (part 2) does not decode to JSON; was the token copied whole?'],
    [`aGVhZGVy.${base64Url('{"sub":"ana"}')}.c2ln`, 'The payload has no "role" claim.'],
  ])('explains what is wrong with %j', (text, message) => {
    render(<LoginView />);
    paste(text);
    expect(screen.getByRole('alert')).toHaveTextContent(message);
    expect(screen.getByTestId('login-token')).toHaveAttribute('aria-invalid', 'true');
    expect(useAuthStore.getState().authRequired).toBe(true);
  });

  it('refuses an expired token', () => {
    render(<LoginView />);
    paste(makeToken({ exp: HOUR_AGO() }));
    expect(screen.getByRole('alert')).toHaveTextContent(/This token expired at .*; mint a new one with `costwatch token`\./);
    expect(localStorage.getItem(TOKEN_KEY)).toBeNull();
  });

  it('signs in with a good token (or the whole link) and leaves the login view', () => {
    const token = makeToken({ sub: 'ana', role: 'tenant-viewer', tenants: ['acme'] });
    render(<LoginView />);
    paste(`  http://127.0.0.1:8080/#token=${token}\n`);
    expect(screen.queryByRole('alert')).toBeNull();
    expect(localStorage.getItem(TOKEN_KEY)).toBe(token);
    expect(useAuthStore.getState()).toMatchObject({ token, authRequired: false, claims: { sub: 'ana', role: 'tenant-viewer' } });
  });

  it('shows why it is shown, when the server refused the last token', () => {
    useAuthStore.setState({ reason: 'The server refused the token: token expired' });
    render(<LoginView />);
    expect(screen.getByTestId('login-reason')).toHaveTextContent('The server refused the token: token expired');
  });

  it('"Continue" goes back without a token (for `--auth none`), or with a kept one after a 4408', () => {
    const { unmount } = render(<LoginView />);
    fireEvent.click(screen.getByRole('button', { name: 'Continue without a token' }));
    expect(useAuthStore.getState().authRequired).toBe(false);
    unmount();
    const token = makeToken({ sub: 'ana' });
    useAuthStore.getState().signIn(token);
    useAuthStore.getState().requireAuth(token, 'The live connection was not set up in time (4408).', true);
    render(<LoginView />);
    fireEvent.click(screen.getByRole('button', { name: 'Continue as ana' }));
    expect(useAuthStore.getState()).toMatchObject({ token, authRequired: false });
  });
});
