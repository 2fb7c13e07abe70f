import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { beforeEach, describe, expect, it } from 'vitest';
import { ForbiddenError } from '../api/graphql';
import { OfflineCache, memoryStore, setOfflineCache } from '../cache/offlineCache';
import { Section } from '../components/Section';
import { useUiStore } from '../store/uiStore';
import { useCachedQuery } from './useCachedQuery';

let answers: Record<string, () => Promise<string>> = {};

function Probe({ k }: { k: string | null }) {
  const q = useCachedQuery<string>(k, () => answers[k ?? '']());
  return (
    <div>
      <span data-testid="data">{q.data ?? '-'}</span>
      <span data-testid="error">{q.error ?? '-'}</span>
      <span data-testid="stale">{q.staleAt ?? '-'}</span>
      <button type="button" onClick={q.retry}>
        retry
      </button>
    </div>
  );
}

const text = (id: string) => screen.getByTestId(id).textContent;

describe('useCachedQuery', () => {
  beforeEach(() => {
    setOfflineCache(new OfflineCache(memoryStore(), () => 1234));
    useUiStore.setState({ liveVersion: 0 });
  });

  it('shows the cached answer, marked with its time, when a later fetch fails', async () => {
    answers = { a: () => Promise.resolve('first') };
    const view = render(<Probe k="a" />);
    await waitFor(() => expect(text('data')).toBe('first'));
    expect(text('stale')).toBe('-');
    await act(() => new Promise((r) => setTimeout(r, 0))); // the cache write

    answers = { a: () => Promise.reject(new Error('Cannot reach the Costwatch server')) };
    view.unmount();
    render(<Probe k="a" />);
    await waitFor(() => expect(text('stale')).toBe('1234'));
    expect(text('data')).toBe('first');
    expect(text('error')).toBe('-');

    answers = { a: () => Promise.resolve('second') };
    fireEvent.click(screen.getByText('retry'));
    await waitFor(() => expect(text('data')).toBe('second'));
    expect(text('stale')).toBe('-');
  });

  it('never shows another key\'s answer, and errors when nothing is cached', async () => {
    answers = { a: () => Promise.resolve('for a'), b: () => Promise.reject(new Error('down')) };
    const view = render(<Probe k="a" />);
    await waitFor(() => expect(text('data')).toBe('for a'));
    view.rerender(<Probe k="b" />);
    await waitFor(() => expect(text('error')).toBe('down'));
    expect(text('data')).toBe('-');
  });

  it('refetches on a live update and fetches nothing without a key', async () => {
    let calls = 0;
    answers = { a: () => Promise.resolve(`v${++calls}`) };
    const view = render(<Probe k="a" />);
    await waitFor(() => expect(text('data')).toBe('v1'));
    act(() => useUiStore.getState().bumpLive());
    await waitFor(() => expect(text('data')).toBe('v2'));
    view.rerender(<Probe k={null} />);
    expect(text('data')).toBe('-');
    expect(calls).toBe(2);
  });
});

describe('Section', () => {
  it('folds its content away and remembers it', () => {
    localStorage.clear();
    const view = render(
      <Section id="t" title="Trends">
        <p>chart here</p>
      </Section>,
    );
    const toggle = screen.getByRole('button', { name: /Trends/ });
    expect(toggle).toHaveAttribute('aria-expanded', 'true');
    fireEvent.click(toggle);
    expect(screen.queryByText('chart here')).toBeNull();
    expect(toggle).toHaveAttribute('aria-expanded', 'false');
    view.unmount();
    render(
      <Section id="t" title="Trends">
        <p>chart here</p>
      </Section>,
    );
    expect(screen.queryByText('chart here')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: /Trends/ }));
    expect(screen.getByText('chart here')).toBeInTheDocument();
  });

  it('does not stand in cached data for a refusal (FORBIDDEN / 401): it may be someone else\'s', async () => {
    answers = { a: () => Promise.resolve('cached for the admin') };
    const view = render(<Probe k="a" />);
    await waitFor(() => expect(text('data')).toBe('cached for the admin'));
    await act(() => new Promise((r) => setTimeout(r, 0))); // the cache write
    view.unmount();

    answers = { a: () => Promise.reject(new ForbiddenError('tenant-viewer may not read tenant a')) };
    render(<Probe k="a" />);
    await waitFor(() => expect(text('error')).toBe('tenant-viewer may not read tenant a'));
    expect(text('data')).toBe('-');
    expect(text('stale')).toBe('-');
  });
});
