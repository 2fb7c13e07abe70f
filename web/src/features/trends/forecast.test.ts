import { describe, expect, it } from 'vitest';
import type { ForecastDay } from '../../shared/api/types';
import { FORECAST_NAME, buildForecastSeries, chartDays, forecastFits, forecastChartSeries, forecastScope, trendTooltip } from './forecast';

const m = (amount: string) => ({ amount, currency: 'USD' });
const day = (date: string, point: string, lo80: string, hi80: string, lo95: string, hi95: string): ForecastDay => ({
  date,
  band: { point: m(point), lo80: m(lo80), hi80: m(hi80), lo95: m(lo95), hi95: m(hi95) },
});
const FC = [day('2026-01-03', '10', '8', '12', '6', '15'), day('2026-01-04', '11', '9', '13.5', '7', '16')];

describe('forecastScope', () => {
  it('maps category and service of the drill path; a sub-kind alone adds nothing', () => {
    expect(forecastScope([])).toBeNull();
    expect(forecastScope(['hosting'])).toEqual({ category: 'hosting' });
    expect(forecastScope(['hosting', 'compute'])).toEqual({ category: 'hosting' });
    expect(forecastScope(['hosting', 'compute', 'ec2'])).toEqual({ category: 'hosting', service: 'ec2' });
  });
});

describe('chartDays', () => {
  it('appends the forecast days after the history, sharing today and filling gaps', () => {
    expect(chartDays(['2026-01-01', '2026-01-02', '2026-01-03'], FC)).toEqual(['2026-01-01', '2026-01-02', '2026-01-03', '2026-01-04']);
    expect(chartDays(['2026-01-01'], FC)).toEqual(['2026-01-01', '2026-01-02', '2026-01-03', '2026-01-04']);
    expect(chartDays(['2026-01-01', '2026-01-02'], [])).toEqual(['2026-01-01', '2026-01-02']);
    expect(chartDays([], [])).toEqual([]);
  });
});

describe('forecastFits', () => {
  it('draws the forecast only right after (or overlapping) the last history day', () => {
    expect(forecastFits(['2026-01-01', '2026-01-02', '2026-01-03'], FC)).toBe(true);
    expect(forecastFits(['2026-01-02'], FC)).toBe(true);
    expect(forecastFits(['2026-01-01'], FC)).toBe(false);
    expect(forecastFits([], FC)).toBe(false);
    expect(forecastFits(['2026-01-02'], [])).toBe(false);
  });
});

describe('buildForecastSeries', () => {
  const days = ['2026-01-02', '2026-01-03', '2026-01-04'];
  const f = buildForecastSeries(days, FC);

  it('aligns the forecast to the axis, null before it starts', () => {
    expect(f.point).toEqual([null, 10, 11]);
    expect(f.lo95).toEqual([null, 6, 7]);
    expect(f.count).toBe(2);
  });

  it('stacks lower bound + band widths so the layers sum to hi95 (80 % band in the middle)', () => {
    expect(f.stack.lower).toEqual([null, 6, 7]);
    expect(f.stack.low95).toEqual([null, 2, 2]);
    expect(f.stack.mid80).toEqual([null, 4, 4.5]);
    expect(f.stack.high95).toEqual([null, 3, 2.5]);
    for (const i of [1, 2]) {
      const { lower, low95, mid80, high95 } = f.stack;
      expect(lower[i]! + low95[i]!).toBe(f.lo80[i]);
      expect(lower[i]! + low95[i]! + mid80[i]!).toBe(f.hi80[i]);
      expect(lower[i]! + low95[i]! + mid80[i]! + high95[i]!).toBe(f.hi95[i]);
    }
  });

  it('never gives a band a negative width', () => {
    const odd = buildForecastSeries(['2026-01-03'], [day('2026-01-03', '5', '4', '3', '6', '2')]);
    expect(odd.stack.low95).toEqual([0]);
    expect(odd.stack.mid80).toEqual([0]);
    expect(odd.stack.high95).toEqual([0]);
  });

  it('becomes one legend entry: an unfilled lower bound, three translucent stacked areas, the point line', () => {
    const s = forecastChartSeries(f) as { id: string; name: string; stack?: string; areaStyle?: { opacity: number }; data: unknown }[];
    expect(s.map((x) => x.id)).toEqual(['fc-lower', 'fc-low95', 'fc-mid80', 'fc-high95', 'fc-point']);
    expect(new Set(s.map((x) => x.name))).toEqual(new Set([FORECAST_NAME]));
    expect(s.slice(0, 4).every((x) => x.stack === 'forecast')).toBe(true);
    expect(s[4].stack).toBeUndefined();
    expect(s[0].areaStyle).toBeUndefined();
    expect(s.slice(1, 4).map((x) => x.areaStyle?.opacity)).toEqual([0.12, 0.28, 0.12]);
    expect(s[2].data).toBe(f.stack.mid80);
    expect(s[4].data).toBe(f.point);
  });

  it('shows the forecast in the tooltip as one line with its intervals, not the band layers', () => {
    const html = trendTooltip(
      [
        { seriesId: 'api', seriesName: 'api', value: 4.5, dataIndex: 1, axisValue: '2026-01-03' },
        { seriesId: 'fc-lower', seriesName: FORECAST_NAME, value: 6, dataIndex: 1 },
        { seriesId: 'fc-mid80', seriesName: FORECAST_NAME, value: 4, dataIndex: 1 },
        { seriesId: 'fc-point', seriesName: FORECAST_NAME, value: 10, dataIndex: 1 },
      ],
      'USD',
      f,
    );
    expect(html).toBe('2026-01-03<br/>api: 4.50 USD<br/>Forecast: 10.00 USD (80 %: 8.00 USD – 12.00 USD; 95 %: 6.00 USD – 15.00 USD)');
    expect(trendTooltip([{ seriesId: 'fc-point', value: null, dataIndex: 0, axisValue: '2026-01-02' }], 'USD', f)).toBe('2026-01-02');
  });
});
