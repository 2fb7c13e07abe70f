const MONEY = 'amount currency';

export const TENANTS = /* GraphQL */ `query Tenants { tenants }`;

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
