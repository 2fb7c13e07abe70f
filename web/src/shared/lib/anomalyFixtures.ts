import type { Anomaly } from '../api/types';

// Test data shared by the anomaly tests (trends markers, the anomalies panel, the list).
export function anomaly(id: string, patch: Partial<Anomaly> = {}): Anomaly {
  const windowStart = patch.windowStart ?? '2026-01-20T06:00:00Z';
  return {
    id,
    tenant: 'acme',
    series: 'service=ec2|USD',
    windowStart,
    windowEnd: Number.isNaN(Date.parse(windowStart)) ? windowStart : new Date(Date.parse(windowStart) + 3_600_000).toISOString(),
    kind: 'SPIKE',
    severity: 'CRITICAL',
    score: 1,
    expected: { amount: '3.5', currency: 'USD' },
    actual: { amount: '12.5', currency: 'USD' },
    rootCause: [
      { key: 'resource=r-spiky', sharePercent: '96.5', delta: { amount: '9', currency: 'USD' } },
      { key: 'resource=r-a', sharePercent: '2.5', delta: { amount: '0.2', currency: 'USD' } },
      { key: 'label:team=web', sharePercent: '1', delta: { amount: '0.1', currency: 'USD' } },
      { key: 'resource=r-c', sharePercent: null, delta: { amount: '0', currency: 'USD' } },
    ],
    detectedAt: '2026-01-20T07:00:05Z',
    feedback: null,
    ...patch,
  };
}
