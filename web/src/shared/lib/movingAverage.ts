/**
 * Trailing moving average over `window` points. The first `window - 1` points average what is
 * available so far (no gaps at the start of the line).
 */
export function movingAverage(values: number[], window = 7): number[] {
  if (window < 1) throw new Error('window must be at least 1');
  const out: number[] = [];
  let sum = 0;
  values.forEach((v, i) => {
    sum += v;
    if (i >= window) sum -= values[i - window];
    out.push(sum / Math.min(i + 1, window));
  });
  return out;
}
