import type { Anomaly, AnomalyFeedback, AnomalyKind } from '../../shared/api/types';

const KIND: Record<AnomalyKind, string> = { SPIKE: 'Spike', LEVEL_SHIFT: 'Level shift', TREND_CHANGE: 'Trend change', UNUSUAL_PATTERN: 'Unusual pattern' };

export function kindLabel(kind: AnomalyKind): string {
  return KIND[kind] ?? kind;
}

/** "service=ec2|USD" → "service ec2 (USD)"; "total|USD" → "total (USD)". */
export function seriesLabel(series: string): string {
  const [dims, currency] = series.split('|');
  const label = dims.replace('=', ' ');
  return currency ? `${label} (${currency})` : label;
}

const utc = (iso: string) => {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
};

/** "2026-11-29 06:00–07:00 UTC" (a window within one day), else both ends in full. */
export function formatWindow(start: string, end: string): string {
  const s = utc(start);
  const e = utc(end);
  if (!s || !e) return `${start} – ${end}`;
  const sd = s.slice(0, 10);
  const ed = e.slice(0, 10);
  if (sd === ed || (e.slice(11, 16) === '00:00' && Date.parse(e) - Date.parse(s) <= 86_400_000))
    return `${sd} ${s.slice(11, 16)}–${e.slice(11, 16)} UTC`;
  return `${sd} ${s.slice(11, 16)} – ${ed} ${e.slice(11, 16)} UTC`;
}

/** The top `n` root-cause resources with their share: "r-spiky 100 %". */
export function topCauses(a: Anomaly, n = 3): { name: string; share: string }[] {
  return a.rootCause.slice(0, n).map((c) => ({
    name: c.key.startsWith('resource=') ? c.key.slice('resource='.length) : c.key,
    share: c.sharePercent === null ? '–' : `${c.sharePercent} %`,
  }));
}

/** "Marked expected by ana · 2026-11-29 07:40 UTC · load test". */
export function feedbackText(f: AnomalyFeedback): string {
  const at = utc(f.at);
  return [
    `Marked ${f.expected ? 'expected' : 'not expected'}${f.by ? ` by ${f.by}` : ''}`,
    at ? `${at.slice(0, 16).replace('T', ' ')} UTC` : f.at,
    f.note ?? '',
  ]
    .filter(Boolean)
    .join(' · ');
}
