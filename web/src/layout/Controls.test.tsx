import { cleanup, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { useUiStore } from '../shared/store/uiStore';
import { CurrencySelect } from './Controls';

const options = () => Array.from(screen.getByTestId('currency-select').querySelectorAll('option')).map((o) => o.textContent);

describe('CurrencySelect', () => {
  beforeEach(() => useUiStore.setState({ currency: 'USD' }));
  afterEach(() => {
    cleanup();
    vi.unstubAllGlobals();
  });

  it("offers the server's currencies", async () => {
    const fetchMock = vi.fn(async (_url: string, init: RequestInit) => {
      expect(String(init.body)).toContain('currencies');
      return new Response(JSON.stringify({ data: { currencies: ['CHF', 'EUR', 'SEK', 'USD'] } }), { status: 200 });
    });
    vi.stubGlobal('fetch', fetchMock);
    render(<CurrencySelect />);
    await waitFor(() => expect(options()).toEqual(['CHF', 'EUR', 'SEK', 'USD']));
  });

  it('keeps the built-in list when the server cannot be reached, and the selected currency', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('offline'))));
    useUiStore.setState({ currency: 'JPY' });
    render(<CurrencySelect />);
    await new Promise((r) => setTimeout(r, 10));
    expect(options()).toEqual(['JPY', 'USD', 'EUR', 'GBP']);
  });
});
