import type { CostFilter, Dimension } from '../api/types';

/**
 * The cost hierarchy every breakdown view walks: category → sub-kind → service → resource.
 * A drill path names one node per level above the one shown, so its length is the level shown.
 */
export const DRILL_LEVELS: { dimension: Dimension; label: string }[] = [
  { dimension: 'CATEGORY', label: 'Category' },
  { dimension: 'SUB_KIND', label: 'Sub-kind' },
  { dimension: 'SERVICE', label: 'Service' },
  { dimension: 'RESOURCE', label: 'Resource' },
];

/** The deepest drill path: a service (its resources are the leaves shown, not drilled into). */
export const MAX_DRILL = DRILL_LEVELS.length - 1;

/** The filter of a drill path: every step above the shown level narrows the query; null at the top. */
export function drillFilter(drill: string[]): CostFilter | null {
  if (!drill.length) return null;
  const filter: CostFilter = {};
  if (drill[0]) filter.categories = [drill[0]];
  if (drill[1]) filter.subKinds = [drill[1]];
  if (drill[2]) filter.services = [drill[2]];
  return filter;
}

/** What to ask for at a drill path: the level's dimension, filtered by every step above it. */
export function drillQuery(drill: string[]): { groupBy: Dimension; label: string; filter: CostFilter | null } {
  const level = DRILL_LEVELS[Math.min(drill.length, DRILL_LEVELS.length - 1)];
  return { groupBy: level.dimension, label: level.label, filter: drillFilter(drill) };
}

/** The dimensions below a drill path, down to the leaves (what a treemap under it groups by). */
export function levelsBelow(drill: string[]): Dimension[] {
  return DRILL_LEVELS.slice(Math.min(drill.length, MAX_DRILL)).map((l) => l.dimension);
}

export function canDrill(drill: string[]): boolean {
  return drill.length < MAX_DRILL;
}

/**
 * A drill path extended by a clicked chart node's path below it, cut at the deepest drillable
 * level and at the first unnamed node ("(none)" or empty: no filter can select it).
 */
export function extendDrill(drill: string[], below: string[]): string[] {
  const out = [...drill];
  for (const step of below) {
    if (out.length >= MAX_DRILL || !step || step === NONE) break;
    out.push(step);
  }
  return out;
}

/** The name the API and the charts give to a missing key. */
export const NONE = '(none)';
