import { useEffect, useState } from 'react';
import { formatAge, formatStaleTime } from '../cache/offlineCache';

export function Skeleton({ lines = 3, height }: { lines?: number; height?: number }) {
  if (height) return <div className="skeleton block" style={{ height }} aria-busy="true" aria-label="Loading" />;
  return (
    <div aria-busy="true" aria-label="Loading">
      {Array.from({ length: lines }, (_, i) => (
        <div key={i} className="skeleton line" style={{ width: `${90 - i * 15}%` }} />
      ))}
    </div>
  );
}

export function ErrorState({ message, onRetry }: { message: string; onRetry: () => void }) {
  return (
    <div className="error" role="alert">
      <p>Could not load: {message}</p>
      <button type="button" onClick={onRetry}>
        Retry
      </button>
    </div>
  );
}

export function Empty({ children }: { children: React.ReactNode }) {
  return <p className="muted empty">{children}</p>;
}

/** Marks data shown from the offline cache because the latest fetch failed. */
export function StaleNote({ at, onRetry }: { at: number; onRetry?: () => void }) {
  const now = useNow(30_000);
  return (
    <div className="offline-note" role="status" data-testid="offline-note" data-at={at}>
      <span>
        offline — showing data from {formatStaleTime(at)} (<span data-testid="offline-age">{formatAge(at, now)}</span>)
      </span>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

/** The current time, re-read every `everyMs` so relative ages stay right while a page sits open. */
function useNow(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}
