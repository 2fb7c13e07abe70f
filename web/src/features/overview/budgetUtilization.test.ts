import { describe, expect, it } from 'vitest';
import type { Budget } from '../../shared/api/types';
import { mostUsedBudget } from './budgetUtilization';

const budget = (id: string, percentSpent: string) => ({ id, percentSpent }) as unknown as Budget;

describe('mostUsedBudget', () => {
  it('picks the highest percent spent, comparing numbers not strings', () => {
    expect(mostUsedBudget([])).toBeNull();
    expect(mostUsedBudget([budget('a', '9.5'), budget('b', '120'), budget('c', '80')])?.id).toBe('b');
    expect(mostUsedBudget([budget('a', '100'), budget('b', '99.99')])?.id).toBe('a');
  });
});
