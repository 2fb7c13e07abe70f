import { Suspense, lazy, useEffect } from 'react';
import { OpenAlertsBadge } from './features/alerts/OpenAlertsBadge';
import { useAlertFeed } from './features/alerts/useAlertFeed';
import { useAlertStore } from './features/alerts/alertStore';
import { CostBreakdown } from './features/breakdown/CostBreakdown';
import { CostOverview } from './features/overview/CostOverview';
import { Placeholder } from './features/placeholders/Placeholder';
import { CostTrends } from './features/trends/CostTrends';
import { CurrencySelect, LiveIndicator, RangePicker, TenantSelect, ThemeToggle } from './layout/Controls';
import { AccountMenu } from './shared/auth/AccountMenu';
import { useAuthStore } from './shared/auth/authStore';
import { LoginView } from './shared/auth/LoginView';
import { Section } from './shared/components/Section';
import { Skeleton } from './shared/components/States';
import { useAnomalyFeed } from './shared/hooks/useAnomalyFeed';
import { useCostMonitoring } from './shared/hooks/useCostMonitoring';
import { useRealTimeCosts } from './shared/hooks/useRealTimeCosts';
import { useTenants } from './shared/hooks/useTenants';
import { useUiStore, type View } from './shared/store/uiStore';

// A view of its own, so its code loads when it is first opened, not with the dashboard.
const ResourceUtilization = lazy(() => import('./features/utilization/ResourceUtilization').then((m) => ({ default: m.ResourceUtilization })));
const BudgetTracker = lazy(() => import('./features/budgets/BudgetTracker').then((m) => ({ default: m.BudgetTracker })));
const AlertsPanel = lazy(() => import('./features/alerts/AlertsPanel').then((m) => ({ default: m.AlertsPanel })));
const AnomaliesPanel = lazy(() => import('./features/anomalies/AnomaliesPanel').then((m) => ({ default: m.AnomaliesPanel })));

// Recommendations arrive with their own issue: it has a place in the navigation now (a labelled,
// empty view), so adding it changes no layout.
const NAV: { view: View; label: string; soon?: boolean }[] = [
  { view: 'overview', label: 'Overview' },
  { view: 'utilization', label: 'Resource utilization' },
  { view: 'budgets', label: 'Budgets' },
  { view: 'alerts', label: 'Alerts & anomalies' },
  { view: 'recommendations', label: 'Recommendations', soon: true },
];

function Dashboard() {
  const { retry } = useCostMonitoring();
  return (
    <div className="grid">
      <Section id="overview" title="Cost overview" wide>
        <CostOverview onRetry={() => retry('summary')} />
      </Section>
      <Section id="breakdown" title="Breakdown">
        <CostBreakdown onRetry={() => retry('breakdown')} />
      </Section>
      <Section id="trends" title="Trends">
        <CostTrends onRetry={() => retry('history')} />
      </Section>
    </div>
  );
}

/**
 * The login view while the server wants a token, else the dashboard. The dashboard is keyed by
 * the token: signing in (again, or as someone else) mounts it afresh, so every query and live
 * connection starts over with the new token.
 */
export function App() {
  const theme = useUiStore((s) => s.theme);
  const authRequired = useAuthStore((s) => s.authRequired);
  const token = useAuthStore((s) => s.token);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
  return authRequired ? <LoginView /> : <Shell key={token ?? ''} />;
}

function Shell() {
  const { tenant, view, setView } = useUiStore();
  const { tenants, error, reload } = useTenants();
  useRealTimeCosts(tenant);
  useAlertFeed(tenant);
  useAnomalyFeed(tenant);
  const alertVersion = useAlertStore((s) => s.version);

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
          <AccountMenu />
        </div>
      </header>
      <nav className="nav" aria-label="Views">
        {NAV.map((n) => (
          <button key={n.view} type="button" aria-current={view === n.view ? 'page' : undefined} onClick={() => setView(n.view)}>
            {n.label}
            {n.view === 'alerts' && <OpenAlertsBadge />}
            {n.soon && <span className="soon"> (coming soon)</span>}
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
      <main>
        {view === 'overview' && <Dashboard />}
        {view === 'utilization' && (
          <Suspense fallback={<Skeleton height={320} />}>
            <ResourceUtilization />
          </Suspense>
        )}
        {view === 'budgets' && (
          <Suspense fallback={<Skeleton height={320} />}>
            <BudgetTracker alertVersion={alertVersion} />
          </Suspense>
        )}
        {view === 'alerts' && (
          <Suspense fallback={<Skeleton height={320} />}>
            <AlertsPanel />
            <AnomaliesPanel />
          </Suspense>
        )}
        {view === 'recommendations' && <Placeholder view={view} />}
      </main>
    </div>
  );
}
