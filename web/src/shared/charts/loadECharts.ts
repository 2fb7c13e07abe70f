export type EChartsModule = typeof import('./echarts')['echarts'];

let pending: Promise<EChartsModule> | null = null;

/** Loads the ECharts chunk once; later calls share the same promise. A failed load may be retried. */
export function loadECharts(): Promise<EChartsModule> {
  if (!pending) {
    pending = import('./echarts').then(
      (m) => m.echarts,
      (e) => {
        pending = null;
        throw e;
      },
    );
  }
  return pending;
}
