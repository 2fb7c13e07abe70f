import { describe, expect, it } from 'vitest';
import { breakdownCsv } from './csvExport';
import { canDrill, drillQuery, extendDrill, levelsBelow } from '../../shared/lib/drill';

const money = (amount: string) => ({ amount, currency: 'USD' });

describe('drill', () => {
  it('groups by category, then sub-kind, then service, then resource, filtering by the path', () => {
    expect(drillQuery([])).toMatchObject({ groupBy: 'CATEGORY', filter: null });
    expect(drillQuery(['hosting'])).toMatchObject({ groupBy: 'SUB_KIND', filter: { categories: ['hosting'] } });
    expect(drillQuery(['hosting', 'compute'])).toMatchObject({
      groupBy: 'SERVICE',
      filter: { categories: ['hosting'], subKinds: ['compute'] },
    });
    expect(drillQuery(['hosting', 'compute', 'ec2'])).toEqual({
      groupBy: 'RESOURCE',
      label: 'Resource',
      filter: { categories: ['hosting'], subKinds: ['compute'], services: ['ec2'] },
    });
    expect(canDrill(['hosting', 'compute'])).toBe(true);
    expect(canDrill(['hosting', 'compute', 'ec2'])).toBe(false);
  });
  it('lists the levels below a path, down to resources', () => {
    expect(levelsBelow([])).toEqual(['CATEGORY', 'SUB_KIND', 'SERVICE', 'RESOURCE']);
    expect(levelsBelow(['hosting', 'compute'])).toEqual(['SERVICE', 'RESOURCE']);
    expect(levelsBelow(['hosting', 'compute', 'ec2'])).toEqual(['RESOURCE']);
  });
  it('extends a path by a clicked node, never into a resource or an unnamed node', () => {
    expect(extendDrill([], ['hosting', 'compute'])).toEqual(['hosting', 'compute']);
    expect(extendDrill(['hosting'], ['compute', 'ec2', 'i-0abc'])).toEqual(['hosting', 'compute', 'ec2']);
    expect(extendDrill(['hosting'], ['(none)', 'x'])).toEqual(['hosting']);
    expect(extendDrill(['api'], [''])).toEqual(['api']);
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
  it('names every level of a service path, down to resources', () => {
    const csv = breakdownCsv(['hosting', 'compute', 'ec2'], [{ keys: ['i-0abc'], amount: money('2'), events: 1, percentage: '100' }]);
    expect(csv).toBe('category,sub-kind,service,resource,amount,currency,percentage,events\r\nhosting,compute,ec2,i-0abc,2,USD,100,1\r\n');
  });
});
