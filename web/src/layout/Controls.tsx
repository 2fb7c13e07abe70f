import { useEffect, useState } from 'react';
import { gql } from '../shared/api/graphql';
import { CURRENCIES as CURRENCIES_QUERY } from '../shared/api/queries';
import { validCustom } from '../shared/lib/range';
import { useUiStore } from '../shared/store/uiStore';

const PRESETS = [7, 30, 90];
/** Shown until the server's list arrives (and when it cannot be reached). */
export const CURRENCIES = ['USD', 'EUR', 'GBP'];

export function TenantSelect({ tenants }: { tenants: string[] }) {
  const tenant = useUiStore((s) => s.tenant);
  const setTenant = useUiStore((s) => s.setTenant);
  // Only the tenants the server offers (it lists just those the token may see); the selected one
  // is shown alone only while that list has not arrived yet.
  const options = tenant && !tenants.length ? [tenant] : tenants;
  return (
    <label>
      Tenant{' '}
      <select data-testid="tenant-select" value={tenant ?? ''} onChange={(e) => setTenant(e.target.value)}>
        {!tenant && <option value="">{tenants.length ? 'Select…' : 'No tenants yet'}</option>}
        {options.map((t) => (
          <option key={t} value={t}>
            {t}
          </option>
        ))}
      </select>
    </label>
  );
}

export function RangePicker() {
  const range = useUiStore((s) => s.range);
  const setRange = useUiStore((s) => s.setRange);
  const today = new Date().toISOString().slice(0, 10);
  const [from, setFrom] = useState(range.kind === 'custom' ? range.from : today);
  const [to, setTo] = useState(range.kind === 'custom' ? range.to : today);
  const ok = validCustom(from, to);
  return (
    <div className="range" role="group" aria-label="Date range">
      {PRESETS.map((d) => (
        <button
          key={d}
          type="button"
          aria-pressed={range.kind === 'preset' && range.days === d}
          onClick={() => setRange({ kind: 'preset', days: d })}
        >
          {d}d
        </button>
      ))}
      <input type="date" aria-label="From" value={from} max={to} onChange={(e) => setFrom(e.target.value)} />
      <input type="date" aria-label="To" value={to} min={from} onChange={(e) => setTo(e.target.value)} />
      <button
        type="button"
        disabled={!ok}
        aria-pressed={range.kind === 'custom'}
        onClick={() => setRange({ kind: 'custom', from, to })}
      >
        Apply
      </button>
    </div>
  );
}

/** The currencies the server can convert to now (its reference table and recent fixings). */
export function useCurrencies(): string[] {
  const [list, setList] = useState<string[]>(CURRENCIES);
  useEffect(() => {
    const abort = new AbortController();
    gql<{ currencies: string[] }>(CURRENCIES_QUERY, {}, abort.signal).then(
      (d) => d.currencies?.length && setList(d.currencies),
      () => undefined, // offline: keep the built-in list
    );
    return () => abort.abort();
  }, []);
  return list;
}

export function CurrencySelect() {
  const currency = useUiStore((s) => s.currency);
  const setCurrency = useUiStore((s) => s.setCurrency);
  const known = useCurrencies();
  const options = known.includes(currency) ? known : [currency, ...known];
  return (
    <label>
      Currency{' '}
      <select data-testid="currency-select" value={currency} onChange={(e) => setCurrency(e.target.value)}>
        {options.map((c) => (
          <option key={c}>{c}</option>
        ))}
      </select>
    </label>
  );
}

export function LiveIndicator() {
  const live = useUiStore((s) => s.live);
  const retryInMs = useUiStore((s) => s.retryInMs);
  const on = live === 'live';
  const hint = live === 'connecting' ? 'connecting…' : !on && retryInMs ? `retry in ${Math.ceil(retryInMs / 1000)}s` : '';
  return (
    <span className={`live ${on ? 'on' : 'off'}`} title={on ? 'Receiving live updates' : 'Not connected; reconnecting with backoff'}>
      <span className="dot" aria-hidden />
      <span data-testid="live-indicator">{on ? 'live' : 'offline'}</span>
      {hint && <span className="muted small"> {hint}</span>}
    </span>
  );
}

export function ThemeToggle() {
  const theme = useUiStore((s) => s.theme);
  const toggle = useUiStore((s) => s.toggleTheme);
  return (
    <button type="button" onClick={toggle} aria-label="Toggle dark mode" data-testid="theme-toggle">
      {theme === 'dark' ? '☀ Light' : '☾ Dark'}
    </button>
  );
}
