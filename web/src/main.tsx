import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { clearDataOnUserChange } from './session';
import { initAuth } from './shared/auth/authStore';
import { loadECharts } from './shared/charts/loadECharts';
import './styles.css';

// Before the first render, so the first requests already carry a `#token=` link's token.
clearDataOnUserChange();
initAuth();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

// Fetch the chart chunk right away, in parallel with the first queries (it is not in the entry bundle).
loadECharts().catch(() => undefined);
