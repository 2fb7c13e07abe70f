import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { useAuthStore } from './authStore';
import { makeToken } from './fixtures';
import { decodeClaims } from './jwt';
import { ReadOnlyHint } from './ReadOnlyHint';

const as = (role: string) => useAuthStore.setState({ claims: decodeClaims(makeToken({ role, tenants: ['acme'] })) });

describe('ReadOnlyHint', () => {
  afterEach(() => {
    cleanup();
    useAuthStore.setState({ claims: null });
  });

  it('shows "read-only (tenant-viewer)" for a viewer', () => {
    as('tenant-viewer');
    render(<ReadOnlyHint />);
    expect(screen.getByTestId('read-only-hint')).toHaveTextContent('read-only (tenant-viewer)');
  });

  it.each(['admin', 'finance', 'tenant-admin'])('shows nothing for %s', (role) => {
    as(role);
    render(<ReadOnlyHint />);
    expect(screen.queryByTestId('read-only-hint')).toBeNull();
  });

  it('shows nothing with auth off (no claims)', () => {
    render(<ReadOnlyHint />);
    expect(screen.queryByTestId('read-only-hint')).toBeNull();
  });
});
