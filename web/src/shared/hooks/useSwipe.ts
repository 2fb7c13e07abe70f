import { useRef } from 'react';
import { swipeDirection, type SwipeDir } from '../lib/swipe';

/**
 * Touch handlers for an element that reacts to horizontal swipes. They listen in the capture
 * phase, so a chart canvas inside (which handles its own taps) cannot hide the gesture.
 */
export function useSwipe(onSwipe: (dir: SwipeDir) => void) {
  const start = useRef<{ x: number; y: number; t: number } | null>(null);
  return {
    onTouchStartCapture: (e: React.TouchEvent) => {
      const t = e.touches[0];
      start.current = e.touches.length === 1 && t ? { x: t.clientX, y: t.clientY, t: e.timeStamp } : null;
    },
    onTouchEndCapture: (e: React.TouchEvent) => {
      const s = start.current;
      const t = e.changedTouches[0];
      start.current = null;
      if (!s || !t) return;
      const dir = swipeDirection(t.clientX - s.x, t.clientY - s.y, e.timeStamp - s.t);
      if (dir) onSwipe(dir);
    },
  };
}
