import { useState } from 'react';

function savedOpen(id: string): boolean {
  try {
    return localStorage.getItem(`costwatch.section.${id}`) !== 'closed';
  } catch {
    return true;
  }
}

/**
 * A dashboard panel whose heading folds it away (on a phone, to reach the next section without
 * scrolling past a chart). The choice is remembered per section.
 */
export function Section({ id, title, wide, children }: { id: string; title: string; wide?: boolean; children: React.ReactNode }) {
  const [open, setOpen] = useState(() => savedOpen(id));
  const toggle = () => {
    setOpen(!open);
    try {
      localStorage.setItem(`costwatch.section.${id}`, open ? 'closed' : 'open');
    } catch {
      /* private mode: not remembered */
    }
  };
  return (
    <section className={`panel${wide ? ' wide' : ''}${open ? '' : ' collapsed'}`} data-testid={`section-${id}`}>
      <h2>
        <button type="button" className="section-toggle" aria-expanded={open} aria-controls={`section-body-${id}`} onClick={toggle}>
          <span className="chevron" aria-hidden>
            {open ? '▾' : '▸'}
          </span>{' '}
          {title}
        </button>
      </h2>
      {open && <div id={`section-body-${id}`}>{children}</div>}
    </section>
  );
}
