export interface Money {
  amount: string;
  currency: string;
}
export type Trend = 'UP' | 'DOWN' | 'FLAT';
export interface CategoryCost {
  category: string;
  amount: Money;
  percentage: string | null;
  trend: Trend;
  change: Money;
  previous: Money;
}
export interface CostSummary {
  tenant: string;
  range: { from: string; to: string };
  total: Money;
  dailyAverage: Money;
  previousPeriodTotal: Money;
  changePercent: string | null;
  events: number | string;
  categories: CategoryCost[];
  projectedMonthEnd: Money;
}
export interface CostGroup {
  keys: string[];
  amount: Money;
  events: number | string;
  percentage: string | null;
}
export interface CostPoint {
  bucket: string;
  keys: string[];
  amount: Money;
  /** Usage events counted in the bucket (a JSON number, or a decimal string above 2^53 − 1). */
  events?: number | string;
}
export type Dimension = 'TENANT' | 'CATEGORY' | 'SUB_KIND' | 'PROVIDER' | 'SERVICE' | 'RESOURCE' | 'LABEL';
export interface CostFilter {
  categories?: string[];
  subKinds?: string[];
  providers?: string[];
  services?: string[];
  resources?: string[];
}
