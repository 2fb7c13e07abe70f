export type RangeSpec = { kind: 'preset'; days: number } | { kind: 'custom'; from: string; to: string };
export interface TimeRange {
  from: string;
  to: string;
}

const MIN = 60_000;
const DAY = 86_400_000;

/**
 * Resolves a range spec to RFC3339 ends. Presets end at the start of the next minute (the API
 * truncates to the minute, so this includes events of the current minute). Custom dates
 * (YYYY-MM-DD) are whole UTC days, `to` inclusive.
 */
export function resolveRange(spec: RangeSpec, now = Date.now()): TimeRange {
  if (spec.kind === 'preset') {
    const to = Math.floor(now / MIN) * MIN + MIN;
    return { from: new Date(to - spec.days * DAY).toISOString(), to: new Date(to).toISOString() };
  }
  const from = Date.parse(`${spec.from}T00:00:00Z`);
  const to = Date.parse(`${spec.to}T00:00:00Z`) + DAY;
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
}

export function validCustom(from: string, to: string): boolean {
  const f = Date.parse(`${from}T00:00:00Z`);
  const t = Date.parse(`${to}T00:00:00Z`);
  return Number.isFinite(f) && Number.isFinite(t) && f <= t && t - f < 1097 * DAY;
}

/** UTC day starts (ms) of every bucket from the day holding `from` up to (excluding) `to`. */
export function dayBuckets(range: TimeRange): number[] {
  const start = Math.floor(Date.parse(range.from) / DAY) * DAY;
  const end = Date.parse(range.to);
  const out: number[] = [];
  for (let t = start; t < end; t += DAY) out.push(t);
  return out;
}
