import type { Anomaly, AnomalySeverity } from '../../shared/api/types';

const RANK: Record<AnomalySeverity, number> = { INFO: 0, WARNING: 1, CRITICAL: 2 };

export interface OpenAnomalies {
  /** Anomalies nobody has marked as expected. */
  count: number;
  /** The worst severity among them (null when there are none). */
  worst: AnomalySeverity | null;
}

/**
 * What the overview's badge shows: anomalies in the selected range that are still open. One a
 * person marked as expected is settled and no longer counts; one marked unexpected still does.
 */
export function openAnomalies(anomalies: Anomaly[]): OpenAnomalies {
  let count = 0;
  let worst: AnomalySeverity | null = null;
  for (const a of anomalies) {
    if (a.feedback?.expected) continue;
    count += 1;
    if (worst === null || RANK[a.severity] > RANK[worst]) worst = a.severity;
  }
  return { count, worst };
}
