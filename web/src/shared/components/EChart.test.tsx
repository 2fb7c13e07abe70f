import { render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';

let resolve!: (m: unknown) => void;
const fake = {
  init: vi.fn(() => ({ on: vi.fn(), setOption: vi.fn(), resize: vi.fn(), dispose: vi.fn() })),
};
vi.mock('../charts/loadECharts', () => ({ loadECharts: () => new Promise((r) => (resolve = r)) }));
vi.stubGlobal(
  'ResizeObserver',
  class {
    observe() {}
    disconnect() {}
  },
);

const { EChart } = await import('./EChart');

describe('EChart', () => {
  it('shows the skeleton until the chart chunk has loaded, then draws', async () => {
    render(<EChart name="t" testId="t-chart" option={{}} dark={false} />);
    expect(screen.getByLabelText('Loading')).toBeInTheDocument();
    expect(screen.queryByTestId('t-chart')).toBeNull();
    resolve(fake);
    await waitFor(() => expect(screen.getByTestId('t-chart')).toBeInTheDocument());
    expect(fake.init).toHaveBeenCalled();
    expect(window.__cwCharts?.t).toBeDefined();
  });
});
