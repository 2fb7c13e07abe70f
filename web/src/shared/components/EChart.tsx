import { useEffect, useRef, useState } from 'react';
import type { EChartsCoreOption, ECharts } from 'echarts/core';
import { loadECharts, type EChartsModule } from '../charts/loadECharts';
import { ErrorState, Skeleton } from './States';

declare global {
  interface Window {
    /** Chart instances by name, for end-to-end tests to locate slices. */
    __cwCharts?: Record<string, ECharts>;
  }
}

/** What ECharts passes to a click handler (the fields the dashboard reads). */
export interface ChartClick {
  name: string;
  dataIndex: number;
  data?: unknown;
  /** 'node' or 'edge' on a Sankey. */
  dataType?: string;
  /** Treemap: the clicked node's path, its series root first. */
  treePathInfo?: { name: string }[];
}

interface Props {
  name: string;
  option: EChartsCoreOption;
  dark: boolean;
  onClick?: (params: ChartClick) => void;
  testId?: string;
  height?: number;
}

/** Loads the chart library (its own chunk), showing the skeleton until it is there. */
function useECharts(): { lib: EChartsModule | null; error: string | null; retry: () => void } {
  const [lib, setLib] = useState<EChartsModule | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let live = true;
    loadECharts().then(
      (m) => live && setLib(() => m),
      (e: Error) => live && setError(`chart library (${e.message})`),
    );
    return () => {
      live = false;
    };
  }, [attempt]);
  return {
    lib,
    error,
    retry: () => {
      setError(null);
      setAttempt((a) => a + 1);
    },
  };
}

/** A small ECharts wrapper: one instance per mount and theme, resized with its box. */
export function EChart(props: Props) {
  const { lib, error, retry } = useECharts();
  if (error) return <ErrorState message={error} onRetry={retry} />;
  if (!lib) return <Skeleton height={props.height ?? 320} />;
  return <LoadedChart lib={lib} {...props} />;
}

function LoadedChart({ lib, name, option, dark, onClick, testId, height = 320 }: Props & { lib: EChartsModule }) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<ECharts | null>(null);
  const click = useRef(onClick);
  click.current = onClick;

  useEffect(() => {
    const c = lib.init(el.current!, dark ? 'dark' : undefined, { renderer: 'canvas' });
    chart.current = c;
    c.on('click', (p) => click.current?.(p as unknown as ChartClick));
    window.__cwCharts = { ...window.__cwCharts, [name]: c };
    const ro = new ResizeObserver(() => c.resize());
    ro.observe(el.current!);
    return () => {
      ro.disconnect();
      c.dispose();
      chart.current = null;
      if (window.__cwCharts?.[name] === c) delete window.__cwCharts[name];
    };
  }, [lib, dark, name]);

  useEffect(() => {
    chart.current?.setOption({ backgroundColor: 'transparent', ...withTouchFriendlyTooltip(option) }, { notMerge: true });
  }, [option, dark, lib]);

  return <div ref={el} className="chart" data-testid={testId} style={{ height }} />;
}

/**
 * Tooltips stay inside the chart (on a phone they would otherwise leave the screen) and open on
 * a tap as well as on hover.
 */
export function withTouchFriendlyTooltip(option: EChartsCoreOption): EChartsCoreOption {
  const tooltip = option.tooltip;
  if (!tooltip || Array.isArray(tooltip) || typeof tooltip !== 'object') return option;
  return { ...option, tooltip: { confine: true, triggerOn: 'mousemove|click', ...tooltip } };
}
