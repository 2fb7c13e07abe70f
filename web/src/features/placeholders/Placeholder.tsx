const TEXT: Record<string, { title: string; what: string }> = {
  budgets: { title: 'Budgets', what: 'Spending limits per tenant, category or label, with burn-down against the month-end projection.' },
  alerts: { title: 'Alerts & anomalies', what: 'Budget alerts and cost anomalies found by the anomaly detector, with their notifications.' },
  recommendations: { title: 'Recommendations', what: 'Ways to spend less, derived from usage and rate cards.' },
};

/** Nav target for views that are not built yet. Shows no data on purpose. */
export function Placeholder({ view }: { view: string }) {
  return (
    <section className="panel placeholder" data-testid={`placeholder-${view}`}>
      <h2>{TEXT[view]?.title ?? view}</h2>
      {TEXT[view] && <p>{TEXT[view].what}</p>}
      <p className="muted">Coming with its own issue: the server has no data for it yet, so nothing is shown here.</p>
    </section>
  );
}
