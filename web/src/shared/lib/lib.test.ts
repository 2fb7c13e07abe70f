import { describe, expect, it } from 'vitest';
import { csvCell, toCsv } from './csv';
import { formatMoney, roundDecimal } from './decimal';
import { movingAverage } from './movingAverage';
import { dayBuckets, resolveRange, validCustom } from './range';
import { backoffDelay } from '../api/ws';

describe('movingAverage', () => {
  it('averages a trailing window, partial at the start', () => {
    expect(movingAverage([7, 7, 7, 7, 7, 7, 7, 14], 7)).toEqual([7, 7, 7, 7, 7, 7, 7, 8]);
    expect(movingAverage([1, 2, 3, 4], 2)).toEqual([1, 1.5, 2.5, 3.5]);
    expect(movingAverage([], 7)).toEqual([]);
  });
  it('rejects an empty window', () => {
    expect(() => movingAverage([1], 0)).toThrow();
  });
});

describe('decimal formatting', () => {
  it('rounds half-up exactly, without floats', () => {
    expect(roundDecimal('0.00000000503', 2)).toBe('0.00');
    expect(roundDecimal('12.50000000503', 2)).toBe('12.50');
    expect(roundDecimal('999.995', 2)).toBe('1000.00');
    expect(roundDecimal('-0.001', 2)).toBe('0.00');
    expect(roundDecimal('5', 2)).toBe('5.00');
  });
  it('formats money with grouping and symbols', () => {
    expect(formatMoney('1234567.891', 'USD')).toBe('$1,234,567.89');
    expect(formatMoney('12.50000000503', 'EUR', true)).toBe('€12.50000000503');
    expect(formatMoney('-3.5', 'GBP')).toBe('-£3.50');
    expect(formatMoney('1', 'JPY')).toBe('1.00 JPY');
  });
});

describe('csv', () => {
  it('quotes only what needs quoting', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell(null)).toBe('');
    expect(toCsv(['a', 'b'], [[1, 'x\ny']])).toBe('a,b\r\n1,"x\ny"\r\n');
  });
});

describe('ranges', () => {
  it('ends presets at the next minute so the current minute counts', () => {
    const r = resolveRange({ kind: 'preset', days: 7 }, Date.parse('2026-03-10T12:34:56Z'));
    expect(r).toEqual({ from: '2026-03-03T12:35:00.000Z', to: '2026-03-10T12:35:00.000Z' });
  });
  it('makes custom ranges whole UTC days with an inclusive end', () => {
    expect(resolveRange({ kind: 'custom', from: '2026-01-01', to: '2026-01-31' })).toEqual({
      from: '2026-01-01T00:00:00.000Z',
      to: '2026-02-01T00:00:00.000Z',
    });
    expect(validCustom('2026-02-01', '2026-01-01')).toBe(false);
    expect(validCustom('2026-01-01', '2026-01-01')).toBe(true);
  });
  it('lists day buckets from the day holding from', () => {
    expect(dayBuckets({ from: '2026-01-01T12:00:00Z', to: '2026-01-03T12:00:00Z' }).length).toBe(3);
  });
});

describe('backoff', () => {
  it('grows exponentially and caps at 30s', () => {
    const mid = () => 0.5;
    expect([0, 1, 2, 3, 10].map((n) => backoffDelay(n, mid))).toEqual([1000, 2000, 4000, 8000, 30000]);
  });
});
