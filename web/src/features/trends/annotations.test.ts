import { describe, expect, it } from 'vitest';
import type { Annotation } from '../../shared/api/types';
import { annotationLines, annotationSeries, noteProblem } from './annotations';

const note = (id: string, day: string, text: string, author: string | null = null): Annotation => ({
  id,
  day,
  note: text,
  author,
  createdAt: '2026-01-01T00:00:00Z',
});
const days = ['2026-01-20', '2026-01-21', '2026-01-22'];

describe('annotationLines', () => {
  it('draws one line per shown day, joining the notes of a day, escaping their text', () => {
    const lines = annotationLines(
      [note('a', '2026-01-21', 'deploy <v2>', 'ana'), note('b', '2026-01-21', 'price change'), note('c', '2026-01-20', 'start'), note('old', '2025-12-01', 'x')],
      days,
    );
    expect(lines.map((l) => l.xAxis)).toEqual(['2026-01-20', '2026-01-21']);
    expect(lines[0].name).toBe('start');
    expect(lines[1].name).toBe('2 notes');
    expect(lines[1].tip).toContain('deploy &#60;v2&#62; — ana');
    expect(lines[1].tip).toContain('price change');
  });

  it('becomes a markLine series whose tooltip follows the line', () => {
    const lines = annotationLines([note('a', '2026-01-22', 'a very long note that will not fit on the chart')], days);
    const s = annotationSeries(lines) as {
      markLine: { data: { xAxis: string }[]; label: { formatter: (p: { name: string }) => string }; tooltip: { formatter: (p: { dataIndex: number }) => string } };
    };
    expect(s.markLine.data).toEqual([{ xAxis: '2026-01-22', name: 'a very long note that will not fit on the chart' }]);
    expect(s.markLine.label.formatter({ name: lines[0].name })).toHaveLength(24);
    expect(s.markLine.tooltip.formatter({ dataIndex: 0 })).toContain('a very long note');
  });
});

describe('noteProblem', () => {
  it('asks for a day and a non-empty note of at most 500 characters', () => {
    expect(noteProblem('', 'x')).toBe('Pick a day.');
    expect(noteProblem('2026-02-30x', 'x')).toBe('Pick a day.');
    expect(noteProblem('2026-01-20', '   ')).toBe('Write a note.');
    expect(noteProblem('2026-01-20', 'x'.repeat(501))).toMatch(/500/);
    expect(noteProblem('2026-01-20', 'deploy')).toBeNull();
  });
});
