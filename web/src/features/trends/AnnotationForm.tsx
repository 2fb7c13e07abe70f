import { useState } from 'react';
import { ReadOnlyHint, useCanEdit } from '../../shared/auth/ReadOnlyHint';
import type { Annotations } from './useAnnotations';
import { NOTE_MAX, noteProblem } from './annotations';

/** Add a note on a day; the notes of the shown range listed with a delete button (for roles that may change things). */
export function AnnotationForm({ annotations, defaultDay }: { annotations: Annotations; defaultDay: string }) {
  const [day, setDay] = useState(defaultDay);
  const [note, setNote] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const editable = useCanEdit();

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    const local = noteProblem(day, note);
    if (local) return setProblem(local);
    setBusy(true);
    const err = await annotations.add(day, note);
    setBusy(false);
    setProblem(err);
    if (!err) setNote('');
  };

  return (
    <details className="annotations" data-testid="annotations">
      <summary className="small">
        Notes ({annotations.notes.length}) <ReadOnlyHint />
      </summary>
      {editable && (
        <form className="annotation-form" onSubmit={submit} aria-label="Add a note">
          <input type="date" aria-label="Day" value={day} onChange={(e) => setDay(e.target.value)} />
          <input type="text" aria-label="Note" placeholder="e.g. migrated to Graviton" maxLength={NOTE_MAX} value={note} onChange={(e) => setNote(e.target.value)} />
          <button type="submit" disabled={busy}>
            Add note
          </button>
        </form>
      )}
      {(problem ?? annotations.error) && (
        <p className="small error" role="alert">
          {problem ?? annotations.error}
        </p>
      )}
      <ul className="annotation-list small">
        {annotations.notes.map((n) => (
          <li key={n.id}>
            <span className="muted">{n.day}</span> {n.note}
            {n.author ? <span className="muted"> — {n.author}</span> : null}{' '}
            {editable && (
              <button type="button" className="link" aria-label={`Delete note ${n.note}`} onClick={() => annotations.remove(n.id)}>
                ×
              </button>
            )}
          </li>
        ))}
      </ul>
    </details>
  );
}
