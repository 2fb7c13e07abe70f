import type { Alert, AlertState } from '../../shared/api/types';

// The alert list is fed from two sides: query answers and the `alerts` subscription (every
// transition of every alert, possibly re-delivered after a reconnect). These pure functions keep
// one entry per id, the latest transition winning, newest alert first.

const time = (iso: string) => {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 0 : t;
};

/** Newest triggered first; ties by id (descending) so the order never flickers. */
export function compareAlerts(a: Alert, b: Alert): number {
  return time(b.triggeredAt) - time(a.triggeredAt) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/** True when `incoming` should replace `current`: a later `updatedAt`, or the same one with a longer or different history. */
function isNewer(incoming: Alert, current: Alert): boolean {
  const d = time(incoming.updatedAt) - time(current.updatedAt);
  if (d !== 0) return d > 0;
  const h = incoming.history.length - current.history.length;
  return h > 0 || (h === 0 && JSON.stringify(incoming) !== JSON.stringify(current));
}

/**
 * Applies one alert (a new alert or a transition of a known one): it replaces the entry with the
 * same id unless that entry is already newer; re-delivering the same alert changes nothing.
 */
export function mergeAlert(list: Alert[], incoming: Alert): Alert[] {
  const i = list.findIndex((a) => a.id === incoming.id);
  if (i >= 0 && !isNewer(incoming, list[i])) return list;
  const next = i >= 0 ? list.map((a, j) => (j === i ? incoming : a)) : [...list, incoming];
  return next.sort(compareAlerts);
}

/**
 * Takes a query answer for `state` (null: every state) into the list. When the answer is complete
 * (fewer than `limit` rows), entries in that state it no longer contains are dropped (they moved
 * to another state meanwhile), except the ids in `keep` (pushed live after the query was sent).
 */
export function reconcileAlerts(
  list: Alert[],
  answer: Alert[],
  state: AlertState | null,
  keep: ReadonlySet<string> = new Set(),
  limit = Number.POSITIVE_INFINITY,
): Alert[] {
  const ids = new Set(answer.map((a) => a.id));
  const complete = answer.length < limit;
  let next = list.filter((a) => !complete || ids.has(a.id) || keep.has(a.id) || (state !== null && a.state !== state));
  for (const a of answer) next = mergeAlert(next, a);
  return next;
}

export function openCount(list: Alert[]): number {
  return list.reduce((n, a) => n + (a.state === 'TRIGGERED' ? 1 : 0), 0);
}

export function filterAlerts(list: Alert[], state: AlertState | null): Alert[] {
  return state === null ? list : list.filter((a) => a.state === state);
}

/** "2026-01-31 10:00 UTC" (the exact instant goes in a title). */
export function formatTime(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
