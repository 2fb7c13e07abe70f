import type { Annotation } from '../../shared/api/types';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export const NOTE_MAX = 500;

export interface AnnotationLine {
  xAxis: string;
  name: string;
  /** The tooltip's text (HTML, escaped). */
  tip: string;
}

/**
 * One vertical line per annotated day shown on the chart (notes of one day share a line, their
 * texts joined); days outside `days` are left out.
 */
export function annotationLines(annotations: Annotation[], days: string[]): AnnotationLine[] {
  const shown = new Set(days);
  const perDay = new Map<string, Annotation[]>();
  for (const a of annotations) {
    if (!shown.has(a.day)) continue;
    perDay.set(a.day, [...(perDay.get(a.day) ?? []), a]);
  }
  return [...perDay.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([day, notes]) => ({
      xAxis: day,
      name: notes.length === 1 ? notes[0].note : `${notes.length} notes`,
      tip: [`<b>${esc(day)}</b>`, ...notes.map((n) => `${esc(n.note)}${n.author ? ` — ${esc(n.author)}` : ''}`)].join('<br/>'),
    }));
}

/** An ECharts line series carrying the annotation lines (no data of its own). */
export function annotationSeries(lines: AnnotationLine[]): Record<string, unknown> {
  return {
    name: 'Notes',
    type: 'line',
    data: [],
    markLine: {
      symbol: 'none',
      silent: false,
      lineStyle: { type: 'dotted', color: '#8b5cf6', width: 1.5 },
      label: { formatter: (p: { name: string }) => (p.name.length > 24 ? `${p.name.slice(0, 23)}…` : p.name), position: 'insideEndTop' },
      tooltip: { formatter: (p: { dataIndex: number }) => lines[p.dataIndex]?.tip ?? '' },
      data: lines.map((l) => ({ xAxis: l.xAxis, name: l.name })),
    },
  };
}

/** Why a new note cannot be saved, or null: mirrors the server's checks for a quick answer. */
export function noteProblem(day: string, note: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`))) return 'Pick a day.';
  const text = note.trim();
  if (!text) return 'Write a note.';
  if ([...text].length > NOTE_MAX) return `At most ${NOTE_MAX} characters.`;
  return null;
}
