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
  /** The part of `total` that came from billing data. */
  billed: Money;
  /** The part of `total` still estimated from rate cards. */
  estimated: Money;
  /** Rate-card estimates that billing data replaced (not in `total`). */
  replacedEstimate: Money;
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

// Budgets & alerts (see the gateway's budget API; money stays an exact decimal string).
export type BudgetPeriod = 'MONTHLY' | 'QUARTERLY' | 'YEARLY' | 'CUSTOM';
export type ThresholdBasis = 'ACTUAL' | 'FORECAST';
export type BudgetStatus = 'ON_TRACK' | 'AT_RISK' | 'EXCEEDED';
export interface Label {
  key: string;
  value: string;
}
export interface BudgetScope {
  category: string | null;
  provider: string | null;
  service: string | null;
  labels: Label[];
}
export interface Threshold {
  /** Percent of the budget amount, a decimal string such as "80". */
  percent: string;
  basis: ThresholdBasis;
}
export interface Allocation {
  category: string;
  amount: Money;
}
export interface Budget {
  id: string;
  tenant: string;
  name: string;
  amount: Money;
  period: BudgetPeriod;
  /** Current period window [periodStart, periodEnd). */
  periodStart: string;
  periodEnd: string;
  scope: BudgetScope;
  thresholds: Threshold[];
  allocations: Allocation[];
  owner: string | null;
  spent: Money;
  forecast: Money;
  /** 80% interval of the forecast. */
  forecastLow: Money;
  forecastHigh: Money;
  percentSpent: string;
  status: BudgetStatus;
  depletionDate: string | null;
  createdAt: string;
  updatedAt: string;
}
export interface BudgetScopeInput {
  category?: string | null;
  provider?: string | null;
  service?: string | null;
  labels?: Label[] | null;
}
export interface BudgetInput {
  name: string;
  amount: string;
  currency: string;
  period: BudgetPeriod;
  customStart?: string | null;
  customEnd?: string | null;
  scope?: BudgetScopeInput | null;
  thresholds?: Threshold[] | null;
  allocations?: { category: string; amount: string }[] | null;
  owner?: string | null;
}
export interface BudgetRecommendation {
  amount: Money;
  basedOnPeriods: number;
  reasoning: string[];
}

export type AlertState = 'TRIGGERED' | 'ACKNOWLEDGED' | 'RESOLVED';
export type AlertSeverity = 'INFO' | 'WARNING' | 'CRITICAL';
export type AlertKind = 'BUDGET_THRESHOLD' | 'BUDGET_FORECAST' | 'BUDGET_DEPLETION' | 'COST_SPIKE' | 'PERIOD_CHANGE' | 'RESOURCE_UTILIZATION' | 'ANOMALY';
export interface AlertTransition {
  state: AlertState;
  at: string;
  by: string | null;
  note: string | null;
}
export interface Alert {
  id: string;
  tenant: string;
  dedupeKey: string;
  kind: AlertKind;
  severity: AlertSeverity;
  state: AlertState;
  title: string;
  message: string;
  budgetId: string | null;
  actual: Money | null;
  threshold: Money | null;
  owner: string | null;
  triggeredAt: string;
  updatedAt: string;
  history: AlertTransition[];
}

// Forecast & anomalies (see `forecast(...)`, `anomalies(...)` in the SDL).
export interface ForecastBand {
  point: Money;
  lo80: Money;
  hi80: Money;
  lo95: Money;
  hi95: Money;
}
export interface ForecastDay {
  /** YYYY-MM-DD (UTC). */
  date: string;
  band: ForecastBand;
}
export interface CostForecast {
  tenant: string;
  days: ForecastDay[];
  total: ForecastBand;
}
export type AnomalyKind = 'SPIKE' | 'LEVEL_SHIFT' | 'TREND_CHANGE' | 'UNUSUAL_PATTERN';
export type AnomalySeverity = 'INFO' | 'WARNING' | 'CRITICAL';
export interface AnomalyContributor {
  /** `resource=<id>` or `label:<key>=<value>`. */
  key: string;
  delta: Money;
  /** Share of the deviation in percent (decimal string); null when the total is zero. */
  sharePercent: string | null;
}
export interface AnomalyFeedback {
  expected: boolean;
  note: string | null;
  by: string | null;
  at: string;
}
export interface Anomaly {
  id: string;
  tenant: string;
  /** `total|USD`, `category=<c>|USD`, `provider=<p>|USD` or `service=<s>|USD`. */
  series: string;
  windowStart: string;
  windowEnd: string;
  kind: AnomalyKind;
  severity: AnomalySeverity;
  score: number;
  expected: Money;
  actual: Money;
  rootCause: AnomalyContributor[];
  detectedAt: string;
  feedback: AnomalyFeedback | null;
}

/** A note on a day of a tenant's cost chart, stored server-side. */
export interface Annotation {
  id: string;
  /** UTC day, YYYY-MM-DD. */
  day: string;
  note: string;
  author: string | null;
  createdAt: string;
}
