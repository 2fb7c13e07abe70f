import { describe, expect, it } from 'vitest';
import { breakdownCsv } from './csvExport';
import { canDrill, drillQuery } from './drill';
import { buildTrendSeries } from '../trends/series';

const money = (amount: string) => ({ amount, currency: 'USD' });

describe('drill', () => {
  it('groups by category, then sub-kind, then service, filtering by the path', () => {
    expect(drillQuery([])).toMatchObject({ groupBy: 'CATEGORY', filter: null });
    expect(drillQuery(['hosting'])).toMatchObject({ groupBy: 'SUB_KIND', filter: { categories: ['hosting'] } });
    expect(drillQuery(['hosting', 'compute'])).toMatchObject({
      groupBy: 'SERVICE',
      filter: { categories: ['hosting'], subKinds: ['compute'] },
    });
    expect(canDrill(['hosting'])).toBe(true);
    expect(canDrill(['hosting', 'compute'])).toBe(false);
  });
});

describe('breakdownCsv', () => {
  it('exports exact amounts with the drill path', () => {
    const csv = breakdownCsv(['hosting'], [
      { keys: ['compute'], amount: money('12.50000000503'), events: 2, percentage: '99.5' },
      { keys: ['cdn, edge'], amount: money('0.1'), events: 1, percentage: null },
    ]);
    expect(csv).toBe(
      'category,sub-kind,amount,currency,percentage,events\r\n' +
        'hosting,compute,12.50000000503,USD,99.5,2\r\n' +
        'hosting,"cdn, edge",0.1,USD,,1\r\n',
    );
  });
});

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
