const TEXT: Record<string, string> = {
  budgets: 'Budgets',
  alerts: 'Alerts',
  recommendations: 'Recommendations',
};

/** Nav target for views that are not built yet. Shows no data on purpose. */
export function Placeholder({ view }: { view: string }) {
  return (
    <section className="panel placeholder" data-testid={`placeholder-${view}`}>
      <h2>{TEXT[view] ?? view}</h2>
      <p className="muted">Coming with their issues — not part of this slice, so nothing is shown here yet.</p>
    </section>
  );
}
