import type { Budget } from '../../shared/api/types';

/**
 * The budget the overview reports: the most used one (highest `percentSpent`, compared as
 * decimals), so the number shown is the one closest to, or furthest past, its limit.
 */
export function mostUsedBudget(budgets: Budget[]): Budget | null {
  let top: Budget | null = null;
  for (const b of budgets) {
    if (top === null || Number(b.percentSpent) > Number(top.percentSpent)) top = b;
  }
  return top;
}
