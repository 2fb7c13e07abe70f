// The chart library, registered with just what the dashboard draws. Loaded only through
// `loadECharts()` (a dynamic import), so it lands in its own chunk, out of the initial bundle.
import * as echarts from 'echarts/core';
import { HeatmapChart, LineChart, PieChart, SankeyChart, TreemapChart } from 'echarts/charts';
import { DataZoomComponent, GridComponent, LegendComponent, MarkPointComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([
  PieChart,
  LineChart,
  HeatmapChart,
  TreemapChart,
  SankeyChart,
  TooltipComponent,
  LegendComponent,
  MarkPointComponent,
  GridComponent,
  DataZoomComponent,
  VisualMapComponent,
  CanvasRenderer,
]);

export { echarts };
