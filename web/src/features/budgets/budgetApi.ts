import { ForbiddenError, GraphQLError, gql, requestHeaders, unauthenticated, type GraphQLErrorBody } from '../../shared/api/graphql';
import { BUDGET_RECOMMENDATION, BUDGETS, CREATE_BUDGET, DELETE_BUDGET, UPDATE_BUDGET } from '../../shared/api/queries';
import type { Budget, BudgetInput, BudgetRecommendation, BudgetScopeInput, BudgetPeriod } from '../../shared/api/types';

/** A GraphQL error that names the input field it is about (`extensions.field`, e.g. "input.amount"). */
export class FieldError extends GraphQLError {
  constructor(
    message: string,
    readonly field: string | null,
  ) {
    super(message);
  }
}

/**
 * Like `gql`, but keeps the first error's `extensions.field`, so a rejected form can show the
 * server's message next to the field it names.
 */
export async function gqlWithFields<T>(query: string, variables: Record<string, unknown>): Promise<T> {
  const { headers, token } = requestHeaders();
  let res: Response;
  try {
    res = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  } catch {
    throw new FieldError('Cannot reach the Costwatch server', null);
  }
  let body: { data?: T; errors?: GraphQLErrorBody[] } | undefined;
  try {
    body = await res.json();
  } catch {
    if (res.status !== 401) throw new FieldError(`Server answered ${res.status} ${res.statusText}`.trim(), null);
  }
  // Same as `gql`: a 401 shows the login view, whatever form was open.
  if (res.status === 401) throw unauthenticated(token, body?.errors);
  const errors = body?.errors ?? [];
  const message = errors.map((e) => e.message).join('; ');
  if (errors.some((e) => e.extensions?.code === 'FORBIDDEN')) throw new ForbiddenError(message);
  if (errors.length) throw new FieldError(message, errors[0].extensions?.field ?? null);
  if (!res.ok || !body?.data) throw new FieldError(`Server answered ${res.status}`, null);
  return body.data;
}

export const fetchBudgets = (tenant: string) => gql<{ budgets: Budget[] }>(BUDGETS, { tenant }).then((d) => d.budgets);

export function saveBudget(tenant: string, id: string | null, input: BudgetInput): Promise<Budget> {
  return id
    ? gqlWithFields<{ updateBudget: Budget }>(UPDATE_BUDGET, { tenant, id, input }).then((d) => d.updateBudget)
    : gqlWithFields<{ createBudget: Budget }>(CREATE_BUDGET, { tenant, input }).then((d) => d.createBudget);
}

export const deleteBudget = (tenant: string, id: string) =>
  gqlWithFields<{ deleteBudget: boolean }>(DELETE_BUDGET, { tenant, id }).then((d) => d.deleteBudget);

export const recommendBudget = (tenant: string, period: BudgetPeriod, currency: string, scope: BudgetScopeInput) =>
  gqlWithFields<{ budgetRecommendation: BudgetRecommendation }>(BUDGET_RECOMMENDATION, { tenant, period, currency, scope }).then(
    (d) => d.budgetRecommendation,
  );
