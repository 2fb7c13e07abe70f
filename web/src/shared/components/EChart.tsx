import { useEffect, useRef } from 'react';
import * as echarts from 'echarts/core';
import { LineChart, PieChart } from 'echarts/charts';
import { DataZoomComponent, GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import type { EChartsCoreOption, ECharts } from 'echarts/core';

echarts.use([PieChart, LineChart, TooltipComponent, LegendComponent, GridComponent, DataZoomComponent, CanvasRenderer]);

declare global {
  interface Window {
    /** Chart instances by name, for end-to-end tests to locate slices. */
    __cwCharts?: Record<string, ECharts>;
  }
}

interface Props {
  name: string;
  option: EChartsCoreOption;
  dark: boolean;
  onClick?: (params: { name: string; dataIndex: number }) => void;
  testId?: string;
  height?: number;
}

/** A small ECharts wrapper: one instance per mount and theme, resized with its box. */
export function EChart({ name, option, dark, onClick, testId, height = 320 }: Props) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<ECharts | null>(null);
  const click = useRef(onClick);
  click.current = onClick;

  useEffect(() => {
    const c = echarts.init(el.current!, dark ? 'dark' : undefined, { renderer: 'canvas' });
    chart.current = c;
    c.on('click', (p) => click.current?.(p as unknown as { name: string; dataIndex: number }));
    window.__cwCharts = { ...window.__cwCharts, [name]: c };
    const ro = new ResizeObserver(() => c.resize());
    ro.observe(el.current!);
    return () => {
      ro.disconnect();
      c.dispose();
      chart.current = null;
      if (window.__cwCharts?.[name] === c) delete window.__cwCharts[name];
    };
  }, [dark, name]);

  useEffect(() => {
    chart.current?.setOption({ backgroundColor: 'transparent', ...option }, { notMerge: true });
  }, [option, dark]);

  return <div ref={el} className="chart" data-testid={testId} style={{ height }} />;
}
