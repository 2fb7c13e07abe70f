import type { Anomaly } from '../api/types';

// The anomaly list is fed by query answers, `markAnomaly` answers and the `anomalyDetected`
// subscription (possibly re-delivered after a reconnect): one entry per id, newest first.

const time = (iso: string | null | undefined) => {
  const t = iso ? Date.parse(iso) : Number.NaN;
  return Number.isNaN(t) ? 0 : t;
};

/** Newest window first, then the latest detected; ties by id (descending) so the order never flickers. */
export function compareAnomalies(a: Anomaly, b: Anomaly): number {
  return (
    time(b.windowStart) - time(a.windowStart) ||
    time(b.detectedAt) - time(a.detectedAt) ||
    (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)
  );
}

/** True when `incoming` must not replace `current`: it would lose or roll back recorded feedback. */
function isOlder(incoming: Anomaly, current: Anomaly): boolean {
  if (!current.feedback) return false;
  if (!incoming.feedback) return true;
  return time(incoming.feedback.at) < time(current.feedback.at);
}

/** Applies one anomaly; re-delivering the same one changes nothing, and feedback is never rolled back. */
export function mergeAnomaly(list: Anomaly[], incoming: Anomaly): Anomaly[] {
  const i = list.findIndex((a) => a.id === incoming.id);
  if (i >= 0 && (isOlder(incoming, list[i]) || JSON.stringify(incoming) === JSON.stringify(list[i]))) return list;
  const next = i >= 0 ? list.map((a, j) => (j === i ? incoming : a)) : [...list, incoming];
  return next.sort(compareAnomalies);
}

/**
 * Takes a query answer: the list becomes the answer, plus the entries in `keep` (received live or
 * marked after the query was sent), which the answer may predate.
 */
export function reconcileAnomalies(list: Anomaly[], answer: Anomaly[], keep: ReadonlySet<string> = new Set()): Anomaly[] {
  let next = list.filter((a) => keep.has(a.id));
  for (const a of answer) next = mergeAnomaly(next, a);
  return next.sort(compareAnomalies);
}
