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
