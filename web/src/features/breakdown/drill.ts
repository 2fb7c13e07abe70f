import type { CostFilter, Dimension } from '../../shared/api/types';

export const DRILL_LEVELS: { dimension: Dimension; label: string }[] = [
  { dimension: 'CATEGORY', label: 'Category' },
  { dimension: 'SUB_KIND', label: 'Sub-kind' },
  { dimension: 'SERVICE', label: 'Service' },
];

/** What to ask for at a drill path: the level's dimension, filtered by every step above it. */
export function drillQuery(drill: string[]): { groupBy: Dimension; label: string; filter: CostFilter | null } {
  const level = DRILL_LEVELS[Math.min(drill.length, DRILL_LEVELS.length - 1)];
  const filter: CostFilter = {};
  if (drill[0]) filter.categories = [drill[0]];
  if (drill[1]) filter.subKinds = [drill[1]];
  return { groupBy: level.dimension, label: level.label, filter: drill.length ? filter : null };
}

export function canDrill(drill: string[]): boolean {
  return drill.length < DRILL_LEVELS.length - 1;
}
