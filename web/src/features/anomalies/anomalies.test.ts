import { describe, expect, it } from 'vitest';
import { anomaly } from '../../shared/lib/anomalyFixtures';
import { compareAnomalies, mergeAnomaly, reconcileAnomalies } from '../../shared/lib/anomalyList';
import { feedbackText, formatWindow, kindLabel, seriesLabel, topCauses } from './anomalyFormat';

const ids = (l: { id: string }[]) => l.map((a) => a.id);

describe('anomaly list', () => {
  it('sorts newest window first, then latest detected, then id', () => {
    const list = [
      anomaly('a', { windowStart: '2026-01-19T06:00:00Z' }),
      anomaly('b', { windowStart: '2026-01-20T06:00:00Z', detectedAt: '2026-01-20T07:00:00Z' }),
      anomaly('c', { windowStart: '2026-01-20T06:00:00Z', detectedAt: '2026-01-20T07:00:09Z' }),
      anomaly('d', { windowStart: '2026-01-20T06:00:00Z', detectedAt: '2026-01-20T07:00:09Z' }),
    ].sort(compareAnomalies);
    expect(ids(list)).toEqual(['d', 'c', 'b', 'a']);
  });

  it('merges live pushes once and never rolls feedback back', () => {
    const a = anomaly('a');
    let list = mergeAnomaly([], a);
    expect(mergeAnomaly(list, { ...a })).toBe(list);
    const marked = { ...a, feedback: { expected: true, note: null, by: null, at: '2026-01-20T08:00:00Z' } };
    list = mergeAnomaly(list, marked);
    expect(list[0].feedback?.expected).toBe(true);
    expect(mergeAnomaly(list, a)).toBe(list); // a stale answer without feedback
    const changed = { ...a, feedback: { expected: false, note: 'no', by: null, at: '2026-01-20T09:00:00Z' } };
    expect(mergeAnomaly(list, changed)[0].feedback?.expected).toBe(false);
  });

  it('takes a query answer, keeping entries received after it was sent', () => {
    const list = [anomaly('old'), anomaly('live', { windowStart: '2026-01-21T06:00:00Z' })];
    const next = reconcileAnomalies(list, [anomaly('q', { windowStart: '2026-01-20T08:00:00Z' })], new Set(['live']));
    expect(ids(next)).toEqual(['live', 'q']);
  });
});

describe('anomaly formatting', () => {
  it('formats series, window, kind, causes and feedback', () => {
    expect(seriesLabel('service=ec2|USD')).toBe('service ec2 (USD)');
    expect(seriesLabel('total|USD')).toBe('total (USD)');
    expect(formatWindow('2026-01-20T06:00:00+00:00', '2026-01-20T07:00:00+00:00')).toBe('2026-01-20 06:00–07:00 UTC');
    expect(formatWindow('2026-01-20T23:00:00Z', '2026-01-21T00:00:00Z')).toBe('2026-01-20 23:00–00:00 UTC');
    expect(formatWindow('2026-01-20T00:00:00Z', '2026-01-23T00:00:00Z')).toBe('2026-01-20 00:00 – 2026-01-23 00:00 UTC');
    expect(kindLabel('LEVEL_SHIFT')).toBe('Level shift');
    expect(topCauses(anomaly('a'))).toEqual([
      { name: 'r-spiky', share: '96.5 %' },
      { name: 'r-a', share: '2.5 %' },
      { name: 'label:team=web', share: '1 %' },
    ]);
    expect(feedbackText({ expected: true, note: 'load test', by: 'ana', at: '2026-01-20T08:05:30Z' })).toBe(
      'Marked expected by ana · 2026-01-20 08:05 UTC · load test',
    );
    expect(feedbackText({ expected: false, note: null, by: null, at: '2026-01-20T08:05:30Z' })).toBe('Marked not expected · 2026-01-20 08:05 UTC');
  });
});
