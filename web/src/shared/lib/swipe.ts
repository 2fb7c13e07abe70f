export type SwipeDir = 'left' | 'right';

/** Shortest horizontal travel (CSS px) that counts as a swipe. */
export const SWIPE_MIN_PX = 50;
/** Longest gesture (ms) that counts as a swipe; slower moves are drags. */
export const SWIPE_MAX_MS = 1000;

/**
 * Classifies a finished touch gesture: a swipe is fast, mostly horizontal and long enough, so
 * vertical scrolling and taps on chart slices never switch categories.
 */
export function swipeDirection(dx: number, dy: number, dtMs: number): SwipeDir | null {
  if (dtMs > SWIPE_MAX_MS || Math.abs(dx) < SWIPE_MIN_PX || Math.abs(dx) < 2 * Math.abs(dy)) return null;
  return dx < 0 ? 'left' : 'right';
}

/**
 * The item a swipe leads to: left shows the next one (the content moves left), right the
 * previous one. From nothing selected, left shows the first. Null at either end.
 */
export function neighbour(items: string[], current: string | undefined, dir: SwipeDir): string | null {
  const i = current === undefined ? -1 : items.indexOf(current);
  const j = dir === 'left' ? i + 1 : i - 1;
  if (dir === 'right' && i < 0) return null;
  return j >= 0 && j < items.length ? items[j] : null;
}
