import { useCallback, useEffect, useState } from 'react';
import { gql } from '../../shared/api/graphql';
import { ADD_ANNOTATION, ANNOTATIONS, DELETE_ANNOTATION } from '../../shared/api/queries';
import type { Annotation } from '../../shared/api/types';
import { useUiStore } from '../../shared/store/uiStore';

export interface Annotations {
  notes: Annotation[];
  error: string | null;
  add: (day: string, note: string) => Promise<string | null>;
  remove: (id: string) => Promise<void>;
}

/** The tenant's notes on the days of `range` (UTC), with add/remove that refetch. */
export function useAnnotations(range: { from: string; to: string } | undefined): Annotations {
  const tenant = useUiStore((s) => s.tenant);
  const [notes, setNotes] = useState<Annotation[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const from = range?.from.slice(0, 10);
  const to = range?.to.slice(0, 10);

  useEffect(() => {
    if (!tenant || !from || !to) return;
    const abort = new AbortController();
    gql<{ annotations: Annotation[] }>(ANNOTATIONS, { tenant, from, to }, abort.signal).then(
      (d) => {
        setNotes(d.annotations ?? []);
        setError(null);
      },
      (e: Error) => {
        if (e.name !== 'AbortError') setError(e.message);
      },
    );
    return () => abort.abort();
  }, [tenant, from, to, version]);

  const add = useCallback(
    async (day: string, note: string) => {
      if (!tenant) return 'Select a tenant.';
      try {
        await gql(ADD_ANNOTATION, { tenant, day, note: note.trim() });
        setVersion((v) => v + 1);
        return null;
      } catch (e) {
        return (e as Error).message;
      }
    },
    [tenant],
  );

  const remove = useCallback(
    async (id: string) => {
      if (!tenant) return;
      try {
        await gql(DELETE_ANNOTATION, { tenant, id });
        setVersion((v) => v + 1);
      } catch (e) {
        setError((e as Error).message);
      }
    },
    [tenant],
  );

  return { notes, error, add, remove };
}
