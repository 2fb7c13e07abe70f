// Money amounts arrive as exact decimal strings. These helpers format them without going
// through a float, so "0.00000000503" stays exact.

const SYMBOLS: Record<string, string> = { USD: '$', EUR: '€', GBP: '£' };

function split(amount: string): { neg: boolean; int: string; frac: string } {
  const s = amount.trim();
  const neg = s.startsWith('-');
  const [int = '0', frac = ''] = (neg || s.startsWith('+') ? s.slice(1) : s).split('.');
  return { neg, int: int.replace(/^0+(?=\d)/, '') || '0', frac };
}

function group(int: string): string {
  return int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Rounds a decimal string half-up to `places` fraction digits, exactly. */
export function roundDecimal(amount: string, places: number): string {
  const { neg, int, frac } = split(amount);
  if (frac.length <= places) return (neg ? '-' : '') + int + (places ? '.' + frac.padEnd(places, '0') : '');
  const digits = (int + frac.slice(0, places)).split('').map(Number);
  if (Number(frac[places]) >= 5) {
    let i = digits.length - 1;
    while (i >= 0 && digits[i] === 9) digits[i--] = 0;
    if (i < 0) digits.unshift(1);
    else digits[i] += 1;
  }
  const all = digits.join('');
  const head = all.slice(0, all.length - places) || '0';
  const tail = all.slice(all.length - places);
  const isZero = /^0*$/.test(all);
  return (neg && !isZero ? '-' : '') + head + (places ? '.' + tail : '');
}

/** "1234.5" USD → "$1,234.50"; `exact` keeps every digit (at least 2 fraction digits). */
export function formatMoney(amount: string, currency: string, exact = false): string {
  const value = exact ? amount : roundDecimal(amount, 2);
  const { neg, int, frac } = split(value);
  const f = frac.padEnd(2, '0');
  const sym = SYMBOLS[currency];
  const body = `${group(int)}.${f}`;
  return (neg ? '-' : '') + (sym ? sym + body : `${body} ${currency}`);
}

export function isNegative(amount: string): boolean {
  return split(amount).neg && /[1-9]/.test(amount);
}

function toScaled(amount: string, places: number): bigint {
  const { neg, int, frac } = split(amount);
  const v = BigInt(int + frac.padEnd(places, '0').slice(0, places));
  return neg ? -v : v;
}

function fracLen(amount: string): number {
  return split(amount).frac.length;
}

function fromScaled(v: bigint, places: number): string {
  const neg = v < 0n;
  const digits = (neg ? -v : v).toString().padStart(places + 1, '0');
  const int = digits.slice(0, digits.length - places);
  const frac = places ? digits.slice(digits.length - places).replace(/0+$/, '') : '';
  return (neg ? '-' : '') + int + (frac ? '.' + frac : '');
}

/** Exact sum of decimal strings ("0.1" + "0.2" = "0.3"), trailing fraction zeros dropped. */
export function sumDecimals(amounts: string[]): string {
  const places = amounts.reduce((m, a) => Math.max(m, fracLen(a)), 0);
  return fromScaled(
    amounts.reduce((s, a) => s + toScaled(a, places), 0n),
    places,
  );
}

/** Exact comparison of two decimal strings: -1, 0 or 1. */
export function compareDecimals(a: string, b: string): number {
  const places = Math.max(fracLen(a), fracLen(b));
  const x = toScaled(a, places);
  const y = toScaled(b, places);
  return x < y ? -1 : x > y ? 1 : 0;
}
