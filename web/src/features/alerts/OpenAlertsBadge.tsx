import { useAlertStore } from './alertStore';
import './alerts.css';

/** The number of open (TRIGGERED) alerts, for the navigation. */
export function OpenAlertsBadge() {
  const open = useAlertStore((s) => s.open);
  return (
    <span className={`count-badge${open ? '' : ' zero'}`} data-testid="alerts-open-count" data-count={open} aria-label={`${open} open alerts`}>
      {open}
    </span>
  );
}
