import type { Budget, Threshold, ThresholdBasis } from '../../shared/api/types';
import { compareDecimals } from '../../shared/lib/decimal';

// Exact arithmetic on decimal strings (BigInt, no floats) for what a budget compares: how much of
// it is spent, where each threshold lies and whether it is crossed. `Number()` is used only for
// the bar's geometry (pixel positions), never for a value that is shown or compared.

interface Scaled {
  v: bigint;
  scale: number;
}

const DECIMAL = /^[+-]?\d+(\.\d+)?$/;

function parse(s: string): Scaled {
  const t = s.trim();
  if (!DECIMAL.test(t)) throw new Error(`not a decimal: ${s}`);
  const neg = t.startsWith('-');
  const [int, frac = ''] = t.replace(/^[+-]/, '').split('.');
  const v = BigInt(int + frac);
  return { v: neg ? -v : v, scale: frac.length };
}

function format({ v, scale }: Scaled): string {
  const neg = v < 0n;
  const digits = (neg ? -v : v).toString().padStart(scale + 1, '0');
  const int = digits.slice(0, digits.length - scale);
  const frac = scale ? digits.slice(digits.length - scale).replace(/0+$/, '') : '';
  return (neg && /[1-9]/.test(int + frac) ? '-' : '') + int + (frac ? '.' + frac : '');
}

/** Integer division of non-negative-denominator values, rounded half away from zero. */
function divRound(n: bigint, d: bigint): bigint {
  const neg = n < 0n !== d < 0n;
  const [a, b] = [n < 0n ? -n : n, d < 0n ? -d : d];
  const q = (a * 2n + b) / (b * 2n);
  return neg ? -q : q;
}

/** A decimal string that is a number greater than zero ("0.01", "1500"; not "0", "-1", "1e3", "1,5"). */
export function isPositiveDecimal(s: string): boolean {
  return /^\d+(\.\d+)?$/.test(s.trim()) && /[1-9]/.test(s);
}

/** Exact product of two decimal strings, trailing fraction zeros dropped. */
export function mulDecimals(a: string, b: string): string {
  const x = parse(a);
  const y = parse(b);
  return format({ v: x.v * y.v, scale: x.scale + y.scale });
}

/** `part` as a percentage of `whole`, rounded half-up to `places` (exact): "80.00" of "100" → "80". */
export function percentOf(part: string, whole: string, places = 2): string | null {
  const p = parse(part);
  const w = parse(whole);
  if (w.v === 0n) return null;
  // part/whole·100 = (p.v·10^w.scale·100·10^places) / (w.v·10^p.scale), in units of 10^-places.
  const num = p.v * 10n ** BigInt(w.scale) * 100n * 10n ** BigInt(places);
  const den = w.v * 10n ** BigInt(p.scale);
  return format({ v: divRound(num, den), scale: places });
}

/** The money amount a threshold stands for: `percent`% of `amount`, exactly. */
export function thresholdAmount(amount: string, percent: string): string {
  const x = parse(mulDecimals(amount, percent));
  return format({ v: x.v, scale: x.scale + 2 });
}

export interface ThresholdMark extends Threshold {
  /** The exact amount at which it fires. */
  at: string;
  /** Position on the bar in % of its width; null when it lies beyond the bar's scale. */
  pos: number | null;
  /** ACTUAL: spent ≥ at; FORECAST: forecast ≥ at (exact). */
  crossed: boolean;
}

export interface BarGeometry {
  /** The amount at the right end of the bar (the largest of amount, spent, forecast and its high end). */
  scale: string;
  spentPos: number;
  amountPos: number;
  forecastPos: number;
  bandLow: number;
  bandHigh: number;
  /** Exact percentage of the budget spent (2 places). */
  percent: string;
  over: boolean;
  marks: ThresholdMark[];
}

function maxDecimal(values: string[]): string {
  return values.reduce((m, v) => (compareDecimals(v, m) > 0 ? v : m));
}

/** Where things go on a budget-vs-actual bar; every position is a clamped 0–100 % of the bar. */
export function barGeometry(b: Pick<Budget, 'amount' | 'spent' | 'forecast' | 'forecastLow' | 'forecastHigh' | 'thresholds'>): BarGeometry {
  const amount = b.amount.amount;
  const spent = b.spent.amount;
  const forecast = b.forecast.amount;
  const scale = maxDecimal([amount, spent, forecast, b.forecastHigh.amount, '0']);
  const scaleN = Number(scale);
  const pos = (x: string) => (scaleN > 0 ? Math.min(100, Math.max(0, (Number(x) / scaleN) * 100)) : 0);
  const basisValue: Record<ThresholdBasis, string> = { ACTUAL: spent, FORECAST: forecast };
  const marks = [...b.thresholds]
    .sort((x, y) => compareDecimals(x.percent, y.percent) || x.basis.localeCompare(y.basis))
    .map((t) => {
      const at = thresholdAmount(amount, t.percent);
      return {
        ...t,
        at,
        pos: compareDecimals(at, scale) > 0 ? null : pos(at),
        crossed: compareDecimals(basisValue[t.basis], at) >= 0,
      };
    });
  return {
    scale,
    spentPos: pos(spent),
    amountPos: pos(amount),
    forecastPos: pos(forecast),
    bandLow: pos(b.forecastLow.amount),
    bandHigh: pos(b.forecastHigh.amount),
    percent: percentOf(spent, amount) ?? '0',
    over: compareDecimals(spent, amount) >= 0,
    marks,
  };
}

const DAY = 86_400_000;

/** "2026-01-01 – 2026-01-31" for the window [start, end): an end at midnight UTC shows the day before. */
export function formatWindow(start: string, end: string): string {
  const s = new Date(start);
  const e = new Date(end);
  const endsAtMidnight = e.getUTCHours() === 0 && e.getUTCMinutes() === 0 && e.getUTCSeconds() === 0 && e.getUTCMilliseconds() === 0;
  const last = endsAtMidnight && e.getTime() - s.getTime() >= DAY ? new Date(e.getTime() - DAY) : e;
  return `${s.toISOString().slice(0, 10)} – ${last.toISOString().slice(0, 10)}`;
}

/** How much of the period has passed at `now`, in % (0–100), for the "today" tick on the bar. */
export function elapsedPercent(start: string, end: string, now = Date.now()): number {
  const s = Date.parse(start);
  const e = Date.parse(end);
  if (!(e > s)) return 0;
  return Math.min(100, Math.max(0, ((now - s) / (e - s)) * 100));
}
