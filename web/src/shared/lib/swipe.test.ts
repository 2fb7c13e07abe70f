import { describe, expect, it } from 'vitest';
import { formatAge } from '../cache/offlineCache';
import { neighbour, swipeDirection } from './swipe';

describe('swipeDirection', () => {
  it('takes fast, long, mostly horizontal moves as swipes', () => {
    expect(swipeDirection(-120, 10, 200)).toBe('left');
    expect(swipeDirection(80, -30, 400)).toBe('right');
  });
  it('ignores taps, vertical scrolls and slow drags', () => {
    expect(swipeDirection(10, 2, 100)).toBeNull();
    expect(swipeDirection(-60, 200, 300)).toBeNull();
    expect(swipeDirection(-60, 40, 300)).toBeNull(); // too diagonal
    expect(swipeDirection(-200, 0, 1500)).toBeNull();
  });
});

describe('neighbour', () => {
  const cats = ['hosting', 'api', 'database'];
  it('moves to the next category on a left swipe and the previous on a right swipe', () => {
    expect(neighbour(cats, 'hosting', 'left')).toBe('api');
    expect(neighbour(cats, 'api', 'right')).toBe('hosting');
    expect(neighbour(cats, undefined, 'left')).toBe('hosting');
  });
  it('stops at either end', () => {
    expect(neighbour(cats, 'database', 'left')).toBeNull();
    expect(neighbour(cats, 'hosting', 'right')).toBeNull();
    expect(neighbour(cats, undefined, 'right')).toBeNull();
    expect(neighbour([], undefined, 'left')).toBeNull();
  });
});

describe('formatAge', () => {
  const at = Date.parse('2026-11-28T10:00:00Z');
  it('says how old cached data is', () => {
    expect(formatAge(at, at + 20_000)).toBe('just now');
    expect(formatAge(at, at + 5 * 60_000)).toBe('5 min ago');
    expect(formatAge(at, at + 3 * 3_600_000 + 59_000)).toBe('3 h ago');
    expect(formatAge(at, at + 3 * 86_400_000)).toBe('3 days ago');
    expect(formatAge(at, at - 1000)).toBe('just now'); // clock skew
  });
});
