import type { Alert } from '../../shared/api/types';

// Test data shared by the alert tests.
export function alert(id: string, patch: Partial<Alert> = {}): Alert {
  const triggeredAt = patch.triggeredAt ?? '2026-01-20T10:00:00Z';
  return {
    id,
    tenant: 'acme',
    dedupeKey: `budget:${id}`,
    kind: 'BUDGET_THRESHOLD',
    severity: 'WARNING',
    state: 'TRIGGERED',
    title: `Budget ${id} at 80%`,
    message: 'Spent $80.00 of $100.00',
    budgetId: 'b1',
    actual: { amount: '80.00', currency: 'USD' },
    threshold: { amount: '80', currency: 'USD' },
    owner: null,
    triggeredAt,
    updatedAt: triggeredAt,
    history: [{ state: 'TRIGGERED', at: triggeredAt, by: null, note: null }],
    ...patch,
  };
}

/** `a` moved to `state` at `at`, with the transition appended to its history. */
export function moved(a: Alert, state: Alert['state'], at: string): Alert {
  return { ...a, state, updatedAt: at, history: [...a.history, { state, at, by: 'me', note: null }] };
}
