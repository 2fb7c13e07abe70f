import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { useAuthStore } from '../../shared/auth/authStore';
import { makeToken } from '../../shared/auth/fixtures';
import { decodeClaims } from '../../shared/auth/jwt';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AnnotationForm } from './AnnotationForm';
import type { Annotations } from './useAnnotations';

function fake(overrides: Partial<Annotations> = {}): Annotations {
  return {
    notes: [{ id: 'n1', day: '2026-01-20', note: 'deploy v2', author: 'ana', createdAt: '2026-01-20T10:00:00Z' }],
    error: null,
    add: vi.fn(async () => null),
    remove: vi.fn(async () => undefined),
    ...overrides,
  };
}

describe('AnnotationForm', () => {
  afterEach(cleanup);

  it('checks the note before sending, then sends day and text', async () => {
    const a = fake();
    render(<AnnotationForm annotations={a} defaultDay="2026-01-21" />);
    fireEvent.click(screen.getByRole('button', { name: 'Add note' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Write a note.');
    expect(a.add).not.toHaveBeenCalled();
    fireEvent.change(screen.getByLabelText('Note'), { target: { value: 'migrated to Graviton' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add note' }));
    await waitFor(() => expect(a.add).toHaveBeenCalledWith('2026-01-21', 'migrated to Graviton'));
    await waitFor(() => expect(screen.getByLabelText('Note')).toHaveValue(''));
  });

  it("shows the server's refusal and keeps the text", async () => {
    const a = fake({ add: vi.fn(async () => 'invalid note: must not contain control characters') });
    render(<AnnotationForm annotations={a} defaultDay="2026-01-21" />);
    fireEvent.change(screen.getByLabelText('Note'), { target: { value: 'x' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add note' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('control characters');
    expect(screen.getByLabelText('Note')).toHaveValue('x');
  });

  it('lists the notes with a delete button each', () => {
    const a = fake();
    render(<AnnotationForm annotations={a} defaultDay="2026-01-21" />);
    expect(screen.getByText('deploy v2')).toBeInTheDocument();
    fireEvent.click(screen.getByRole('button', { name: 'Delete note deploy v2' }));
    expect(a.remove).toHaveBeenCalledWith('n1');
  });

  it('a tenant-viewer sees the notes but cannot add or delete one', () => {
    useAuthStore.setState({ claims: decodeClaims(makeToken({ role: 'tenant-viewer', tenants: ['acme'] })) });
    try {
      render(<AnnotationForm annotations={fake()} defaultDay="2026-01-21" />);
      expect(screen.getByTestId('read-only-hint')).toHaveTextContent('read-only (tenant-viewer)');
      expect(screen.getByText('deploy v2')).toBeInTheDocument();
      expect(screen.queryByRole('button', { name: 'Add note' })).toBeNull();
      expect(screen.queryByRole('button', { name: 'Delete note deploy v2' })).toBeNull();
    } finally {
      useAuthStore.setState({ claims: null });
    }
  });
});
