import { describe, expect, it } from 'vitest';
import { buildTrendSeries } from './series';

const money = (amount: string) => ({ amount, currency: 'USD' });

describe('buildTrendSeries', () => {
  it('zero-fills days per group and averages the daily total', () => {
    const s = buildTrendSeries(
      [
        { bucket: '2026-01-01T00:00:00Z', keys: ['api'], amount: money('1') },
        { bucket: '2026-01-02T00:00:00Z', keys: ['hosting'], amount: money('3') },
      ],
      { from: '2026-01-01T00:00:00Z', to: '2026-01-03T00:00:00Z' },
    );
    expect(s.days).toEqual(['2026-01-01', '2026-01-02']);
    expect(s.groups).toEqual([
      { name: 'api', values: [1, 0] },
      { name: 'hosting', values: [0, 3] },
    ]);
    expect(s.average).toEqual([1, 2]);
  });
});
