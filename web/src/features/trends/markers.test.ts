import { describe, expect, it } from 'vitest';
import { anomaly } from '../../shared/lib/anomalyFixtures';
import { SEVERITY_COLORS, anomalyMarks, anomalySeries, anomalyTip, causeName, trendSummary } from './markers';

const days = ['2026-01-19', '2026-01-20', '2026-01-21'];
const totals = [10, 40, 12];

describe('anomalyMarks', () => {
  it('pins each anomaly at its window start day on top of the day total, coloured by severity', () => {
    const marks = anomalyMarks([anomaly('a1', { severity: 'WARNING', windowStart: '2026-01-21T23:00:00Z' })], days, totals);
    expect(marks).toHaveLength(1);
    expect(marks[0]).toMatchObject({ name: 'a1', coord: ['2026-01-21', 12], symbolOffset: [0, 0], itemStyle: { color: SEVERITY_COLORS.WARNING } });
  });

  it('uses the UTC day of the window start (offsets normalised) and leaves out days not shown', () => {
    const marks = anomalyMarks(
      [anomaly('a1', { windowStart: '2026-01-20T01:00:00+02:00' }), anomaly('old', { windowStart: '2026-01-01T06:00:00Z' }), anomaly('bad', { windowStart: 'x' })],
      days,
      totals,
    );
    expect(marks.map((x) => [x.name, x.coord[0]])).toEqual([['a1', '2026-01-19']]);
  });

  it('stacks pins of the same day, the most severe lowest', () => {
    const marks = anomalyMarks(
      [anomaly('info', { severity: 'INFO' }), anomaly('crit', { severity: 'CRITICAL' }), anomaly('warn', { severity: 'WARNING' })],
      days,
      totals,
    );
    expect(marks.map((x) => [x.name, x.symbolOffset[1], x.itemStyle.color])).toEqual([
      ['crit', 0, SEVERITY_COLORS.CRITICAL],
      ['warn', -26, SEVERITY_COLORS.WARNING],
      ['info', -52, SEVERITY_COLORS.INFO],
    ]);
    expect(marks.every((x) => x.coord[1] === 40)).toBe(true);
  });

  it('explains the anomaly in the tooltip: kind, expected vs actual, top root cause (escaped)', () => {
    const tip = anomalyTip(anomaly('a1', { series: 'service=<ec2>|USD' }));
    expect(tip).toContain('<b>Spike</b> · critical · service=&#60;ec2&#62;|USD');
    expect(tip).toContain('expected $3.50 → actual $12.50');
    expect(tip).toContain('top cause: r-spiky (96.5 %)');
    expect(anomalyTip(anomaly('a2', { rootCause: [] }))).toContain('top cause: unknown');
    expect(causeName('label:team=web')).toBe('label:team=web');
  });

  it('carries the pins on an empty series whose tooltip reads each pin', () => {
    const marks = anomalyMarks([anomaly('a1')], days, totals);
    const s = anomalySeries(marks) as { data: unknown[]; markPoint: { data: unknown; tooltip: { formatter: (p: unknown) => string } } };
    expect(s.data).toEqual([]);
    expect(s.markPoint.data).toBe(marks);
    expect(s.markPoint.tooltip.formatter({ data: marks[0] })).toBe(marks[0].tip);
  });

  it('summarises what the chart shows', () => {
    expect(trendSummary(3, 14)).toBe('3 anomalies marked; forecast 14 days');
    expect(trendSummary(1, null)).toBe('1 anomaly marked; no forecast');
  });
});
