import { useEffect } from 'react';
import { CostBreakdown } from './features/breakdown/CostBreakdown';
import { CostOverview } from './features/overview/CostOverview';
import { Placeholder } from './features/placeholders/Placeholder';
import { CostTrends } from './features/trends/CostTrends';
import { CurrencySelect, LiveIndicator, RangePicker, TenantSelect, ThemeToggle } from './layout/Controls';
import { useCostMonitoring } from './shared/hooks/useCostMonitoring';
import { useRealTimeCosts } from './shared/hooks/useRealTimeCosts';
import { useTenants } from './shared/hooks/useTenants';
import { useUiStore, type View } from './shared/store/uiStore';

const NAV: { view: View; label: string; soon?: boolean }[] = [
  { view: 'overview', label: 'Overview' },
  { view: 'budgets', label: 'Budgets', soon: true },
  { view: 'alerts', label: 'Alerts', soon: true },
  { view: 'recommendations', label: 'Recommendations', soon: true },
];

function Dashboard() {
  const { retry } = useCostMonitoring();
  return (
    <div className="grid">
      <section className="panel wide">
        <h2>Cost overview</h2>
        <CostOverview onRetry={() => retry('summary')} />
      </section>
      <section className="panel">
        <h2>Breakdown</h2>
        <CostBreakdown onRetry={() => retry('breakdown')} />
      </section>
      <section className="panel">
        <h2>Trends</h2>
        <CostTrends onRetry={() => retry('history')} />
      </section>
    </div>
  );
}

export function App() {
  const { tenant, theme, view, setView } = useUiStore();
  const { tenants, error, reload } = useTenants();
  useRealTimeCosts(tenant);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);

  return (
    <div className="app">
      <header className="header">
        <h1>Costwatch</h1>
        <div className="controls">
          <TenantSelect tenants={tenants} />
          <RangePicker />
          <CurrencySelect />
          <LiveIndicator />
          <ThemeToggle />
        </div>
      </header>
      <nav className="nav" aria-label="Views">
        {NAV.map((n) => (
          <button key={n.view} type="button" aria-current={view === n.view ? 'page' : undefined} onClick={() => setView(n.view)}>
            {n.label}
            {n.soon && <span className="soon"> (coming with their issues)</span>}
          </button>
        ))}
      </nav>
      {error && (
        <div className="error banner" role="alert">
          Tenants: {error}{' '}
          <button type="button" onClick={reload}>
            Retry
          </button>
        </div>
      )}
      <main>{view === 'overview' ? <Dashboard /> : <Placeholder view={view} />}</main>
    </div>
  );
}
