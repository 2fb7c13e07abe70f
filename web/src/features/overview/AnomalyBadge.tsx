import { useAnomalyStore } from '../../shared/store/anomalyStore';
import { useUiStore } from '../../shared/store/uiStore';
import { openAnomalies } from './anomalyBadge';

/**
 * The overview's anomaly badge: how many anomalies of the selected range are open, coloured by
 * the worst one; a click opens the Alerts & anomalies view. Live: the app-wide anomaly feed
 * adds every `anomalyDetected` push to the store this reads.
 */
export function AnomalyBadge() {
  const anomalies = useAnomalyStore((s) => s.anomalies);
  const loaded = useAnomalyStore((s) => s.loaded);
  const setView = useUiStore((s) => s.setView);
  if (!loaded) return null;
  const { count, worst } = openAnomalies(anomalies);
  const label = count === 0 ? 'No open anomalies' : `${count} open anomal${count === 1 ? 'y' : 'ies'}`;
  return (
    <button
      type="button"
      className={`anomaly-badge ${worst ? `sev-${worst.toLowerCase()}` : 'sev-none'}`}
      data-testid="anomaly-badge"
      data-count={count}
      data-worst={worst ?? ''}
      onClick={() => setView('alerts')}
      title="Open Alerts & anomalies"
    >
      {count > 0 && <span aria-hidden>⚠ </span>}
      {label}
    </button>
  );
}
