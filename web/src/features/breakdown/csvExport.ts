import type { CostGroup } from '../../shared/api/types';
import { toCsv } from '../../shared/lib/csv';
import { DRILL_LEVELS } from '../../shared/lib/drill';

/** The current breakdown level as CSV: the drill path columns, the group, and exact amounts. */
export function breakdownCsv(drill: string[], groups: CostGroup[]): string {
  const pathCols = DRILL_LEVELS.slice(0, drill.length).map((l) => l.label.toLowerCase());
  const level = DRILL_LEVELS[Math.min(drill.length, DRILL_LEVELS.length - 1)].label.toLowerCase();
  const header = [...pathCols, level, 'amount', 'currency', 'percentage', 'events'];
  const rows = groups.map((g) => [...drill, g.keys[0], g.amount.amount, g.amount.currency, g.percentage ?? '', g.events]);
  return toCsv(header, rows);
}
