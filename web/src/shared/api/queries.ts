const MONEY = 'amount currency';

export const TENANTS = /* GraphQL */ `query Tenants { tenants }`;

export const CURRENCIES = /* GraphQL */ `query Currencies { currencies }`;

export const COST_SUMMARY = /* GraphQL */ `
  query CostSummary($tenant: String!, $range: TimeRangeInput!, $currency: String) {
    costSummary(tenant: $tenant, range: $range, currency: $currency) {
      tenant
      range { from to }
      total { ${MONEY} }
      dailyAverage { ${MONEY} }
      previousPeriodTotal { ${MONEY} }
      changePercent
      events
      projectedMonthEnd { ${MONEY} }
      billed { ${MONEY} }
      estimated { ${MONEY} }
      replacedEstimate { ${MONEY} }
      categories { category percentage trend amount { ${MONEY} } change { ${MONEY} } previous { ${MONEY} } }
    }
  }`;

export const COST_BREAKDOWN = /* GraphQL */ `
  query CostBreakdown($tenant: String!, $range: TimeRangeInput!, $groupBy: [Dimension!]!, $filter: CostFilterInput, $currency: String) {
    costBreakdown(tenant: $tenant, range: $range, groupBy: $groupBy, filter: $filter, currency: $currency) {
      keys percentage events amount { ${MONEY} }
    }
  }`;

export const COST_HISTORY = /* GraphQL */ `
  query CostHistory($tenant: String!, $range: TimeRangeInput!, $granularity: Granularity!, $groupBy: [Dimension!], $filter: CostFilterInput, $currency: String) {
    costHistory(tenant: $tenant, range: $range, granularity: $granularity, groupBy: $groupBy, filter: $filter, currency: $currency) {
      bucket keys events amount { ${MONEY} }
    }
  }`;

export const COST_UPDATES = /* GraphQL */ `
  subscription CostUpdates($tenant: String!) {
    costUpdates(tenant: $tenant) { tenant committedAt events eventIds }
  }`;

const BUDGET_FIELDS = `
  id tenant name period periodStart periodEnd owner percentSpent status depletionDate createdAt updatedAt
  amount { ${MONEY} } spent { ${MONEY} } forecast { ${MONEY} } forecastLow { ${MONEY} } forecastHigh { ${MONEY} }
  scope { category provider service labels { key value } }
  thresholds { percent basis }
  allocations { category amount { ${MONEY} } }`;

export const BUDGETS = /* GraphQL */ `
  query Budgets($tenant: String!) {
    budgets(tenant: $tenant) { ${BUDGET_FIELDS} }
  }`;

export const BUDGET_RECOMMENDATION = /* GraphQL */ `
  query BudgetRecommendation($tenant: String!, $period: BudgetPeriod!, $currency: String, $scope: BudgetScopeInput) {
    budgetRecommendation(tenant: $tenant, period: $period, currency: $currency, scope: $scope) {
      amount { ${MONEY} } basedOnPeriods reasoning
    }
  }`;

export const CREATE_BUDGET = /* GraphQL */ `
  mutation CreateBudget($tenant: String!, $input: BudgetInput!) {
    createBudget(tenant: $tenant, input: $input) { ${BUDGET_FIELDS} }
  }`;

export const UPDATE_BUDGET = /* GraphQL */ `
  mutation UpdateBudget($tenant: String!, $id: ID!, $input: BudgetInput!) {
    updateBudget(tenant: $tenant, id: $id, input: $input) { ${BUDGET_FIELDS} }
  }`;

export const DELETE_BUDGET = /* GraphQL */ `
  mutation DeleteBudget($tenant: String!, $id: ID!) {
    deleteBudget(tenant: $tenant, id: $id)
  }`;

const ALERT_FIELDS = `
  id tenant dedupeKey kind severity state title message budgetId owner triggeredAt updatedAt
  actual { ${MONEY} } threshold { ${MONEY} }
  history { state at by note }`;

export const ALERTS = /* GraphQL */ `
  query Alerts($tenant: String!, $state: AlertState, $limit: Int) {
    alerts(tenant: $tenant, state: $state, limit: $limit) { ${ALERT_FIELDS} }
  }`;

export const ACKNOWLEDGE_ALERT = /* GraphQL */ `
  mutation AcknowledgeAlert($tenant: String!, $id: ID!, $by: String, $note: String) {
    acknowledgeAlert(tenant: $tenant, id: $id, by: $by, note: $note) { ${ALERT_FIELDS} }
  }`;

export const RESOLVE_ALERT = /* GraphQL */ `
  mutation ResolveAlert($tenant: String!, $id: ID!, $by: String, $note: String) {
    resolveAlert(tenant: $tenant, id: $id, by: $by, note: $note) { ${ALERT_FIELDS} }
  }`;

/** Every alert transition of the tenant (new alerts, acknowledgements, resolutions). */
export const ALERT_UPDATES = /* GraphQL */ `
  subscription AlertUpdates($tenant: String!) {
    alerts(tenant: $tenant) { ${ALERT_FIELDS} }
  }`;

const BAND = `point { ${MONEY} } lo80 { ${MONEY} } hi80 { ${MONEY} } lo95 { ${MONEY} } hi95 { ${MONEY} }`;

export const FORECAST = /* GraphQL */ `
  query Forecast($tenant: String!, $scope: BudgetScopeInput, $horizonDays: Int!, $currency: String) {
    forecast(tenant: $tenant, scope: $scope, horizonDays: $horizonDays, currency: $currency) {
      tenant days { date band { ${BAND} } } total { ${BAND} }
    }
  }`;

const ANOMALY_FIELDS = `
  id tenant series windowStart windowEnd kind severity score detectedAt
  expected { ${MONEY} } actual { ${MONEY} }
  rootCause { key sharePercent delta { ${MONEY} } }
  feedback { expected note by at }`;

export const ANOMALIES = /* GraphQL */ `
  query Anomalies($tenant: String!, $from: DateTime!, $to: DateTime!, $limit: Int!) {
    anomalies(tenant: $tenant, from: $from, to: $to, limit: $limit) { ${ANOMALY_FIELDS} }
  }`;

export const MARK_ANOMALY = /* GraphQL */ `
  mutation MarkAnomaly($tenant: String!, $id: ID!, $expected: Boolean!, $note: String, $by: String) {
    markAnomaly(tenant: $tenant, id: $id, expected: $expected, note: $note, by: $by) { ${ANOMALY_FIELDS} }
  }`;

/** Every new anomaly of the tenant, as soon as it is stored. */
export const ANOMALY_DETECTED = /* GraphQL */ `
  subscription AnomalyDetected($tenant: String!) {
    anomalyDetected(tenant: $tenant) { ${ANOMALY_FIELDS} }
  }`;

const ANNOTATION = 'id day note author createdAt';

export const ANNOTATIONS = /* GraphQL */ `
  query Annotations($tenant: String!, $from: String!, $to: String!) {
    annotations(tenant: $tenant, from: $from, to: $to) { ${ANNOTATION} }
  }`;

export const ADD_ANNOTATION = /* GraphQL */ `
  mutation AddAnnotation($tenant: String!, $day: String!, $note: String!, $author: String) {
    addAnnotation(tenant: $tenant, day: $day, note: $note, author: $author) { ${ANNOTATION} }
  }`;

export const DELETE_ANNOTATION = /* GraphQL */ `
  mutation DeleteAnnotation($tenant: String!, $id: ID!) {
    deleteAnnotation(tenant: $tenant, id: $id)
  }`;
