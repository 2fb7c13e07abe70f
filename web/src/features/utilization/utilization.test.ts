import { describe, expect, it } from 'vitest';
import { compareDecimals, sumDecimals } from '../../shared/lib/decimal';
import { bucketByWeekdayHour, sortByAmount, splitRange } from './heatmap';

const pt = (bucket: string, amount: string, events: number | string = 1) => ({ bucket, keys: [], amount: { amount, currency: 'USD' }, events });

describe('exact decimal sums', () => {
  it('adds and compares without floats', () => {
    expect(sumDecimals(['0.1', '0.2'])).toBe('0.3');
    expect(sumDecimals(['12.5', '0.00000000503'])).toBe('12.50000000503');
    expect(sumDecimals(['-1.25', '1'])).toBe('-0.25');
    expect(sumDecimals([])).toBe('0');
    expect(sumDecimals(['1.50', '2.50'])).toBe('4');
    expect(compareDecimals('10', '9.99999999999')).toBe(1);
    expect(compareDecimals('-1', '0.5')).toBe(-1);
    expect(compareDecimals('1.0', '1')).toBe(0);
  });
});

describe('bucketByWeekdayHour', () => {
  it('sums hourly points by UTC weekday (Monday first) and hour, exactly', () => {
    const h = bucketByWeekdayHour([
      pt('2026-11-23T09:00:00+00:00', '0.1', 3), // Monday 09 UTC
      pt('2026-11-30T09:00:00Z', '0.2', '9007199254740993'), // the next Monday 09; a count beyond 2^53 arrives as a string
      pt('2026-11-29T23:00:00Z', '5'), // Sunday 23
      pt('2026-11-24T01:00:00+02:00', '1'), // Monday 23 UTC (offset applied)
    ]);
    expect(h.cells).toHaveLength(168);
    expect(h.cells[0 * 24 + 9]).toEqual({ weekday: 0, hour: 9, amount: '0.3', events: '9007199254740996', buckets: 2 });
    expect(h.cells[6 * 24 + 23]).toMatchObject({ weekday: 6, hour: 23, amount: '5', buckets: 1 });
    expect(h.cells[0 * 24 + 23]).toMatchObject({ amount: '1', buckets: 1 });
    expect(h.cells[1 * 24 + 1]).toMatchObject({ amount: '0', events: '0', buckets: 0 });
    expect(h.cells[6 * 24 + 23].events).toBe('1');
    expect(h.max).toBe(5);
    expect(h.total).toBe('6.3');
  });
  it('ignores unparseable buckets and handles no data', () => {
    const h = bucketByWeekdayHour([pt('not a date', '3')]);
    expect(h.total).toBe('0');
    expect(h.max).toBe(0);
  });
});

describe('splitRange', () => {
  it('keeps short ranges whole and splits long ones into consecutive pieces', () => {
    const r = { from: '2026-01-01T00:00:00.000Z', to: '2026-01-04T00:00:00.000Z' };
    expect(splitRange(r)).toEqual([r]);
    const parts = splitRange(r, 24);
    expect(parts).toHaveLength(3);
    expect(parts[0]).toEqual({ from: r.from, to: '2026-01-02T00:00:00.000Z' });
    expect(parts[2].to).toBe(r.to);
    expect(splitRange({ from: r.from, to: '2026-01-02T12:00:00.000Z' }, 24)[1]).toEqual({
      from: '2026-01-02T00:00:00.000Z',
      to: '2026-01-02T12:00:00.000Z',
    });
  });
  it('meets on hour boundaries when the range starts inside an hour, so no bucket is asked for twice', () => {
    // A preset range ends at a minute boundary: 10:35 → 10:35 three days later.
    const parts = splitRange({ from: '2026-01-01T10:35:00.000Z', to: '2026-01-04T10:35:00.000Z' }, 24);
    expect(parts.map((p) => p.from)).toEqual([
      '2026-01-01T10:35:00.000Z',
      '2026-01-02T10:00:00.000Z',
      '2026-01-03T10:00:00.000Z',
      '2026-01-04T10:00:00.000Z',
    ]);
    for (let i = 1; i < parts.length; i++) expect(parts[i].from).toBe(parts[i - 1].to);
    // Each piece spans at most 24 hourly buckets, counted from the bucket holding its start.
    for (const p of parts) {
      const firstBucket = Math.floor(Date.parse(p.from) / 3_600_000) * 3_600_000;
      expect(Math.ceil((Date.parse(p.to) - firstBucket) / 3_600_000)).toBeLessThanOrEqual(24);
    }
    expect(parts.at(-1)?.to).toBe('2026-01-04T10:35:00.000Z');
  });
});

describe('sortByAmount', () => {
  it('orders by exact amount in either direction', () => {
    const g = (k: string, amount: string) => ({ keys: [k, 's', 'p'], amount: { amount, currency: 'USD' }, events: 1, percentage: null });
    const groups = [g('a', '9.5'), g('b', '10.00000001'), g('c', '10')];
    expect(sortByAmount(groups, 'desc').map((x) => x.keys[0])).toEqual(['b', 'c', 'a']);
    expect(sortByAmount(groups, 'asc').map((x) => x.keys[0])).toEqual(['a', 'c', 'b']);
    expect(groups[0].keys[0]).toBe('a'); // not mutated
  });
});
