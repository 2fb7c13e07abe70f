import { authHeaders, currentToken, useAuthStore } from '../auth/authStore';

export class GraphQLError extends Error {}

/** HTTP 401: no token, or the server rejected it. The app shows the login view (`authRequired`). */
export class AuthRequiredError extends GraphQLError {}

/** `extensions.code` FORBIDDEN: the token is valid but may not see this tenant or do this. */
export class ForbiddenError extends GraphQLError {}

/**
 * Whether the server refused the request for who is asking (not because it is unreachable).
 * Such a failure must not fall back to the offline cache: that would show cached data to a
 * caller the server just refused it to.
 */
export const isAccessError = (e: unknown): boolean => e instanceof AuthRequiredError || e instanceof ForbiddenError;

export interface GraphQLErrorBody {
  message: string;
  extensions?: { code?: string; field?: string };
}

/**
 * The headers of every request to the server: JSON plus, when signed in, the bearer token.
 * Returns the token it used, so a 401 can be matched to it.
 */
export function requestHeaders(): { headers: Record<string, string>; token: string | null } {
  const token = currentToken();
  return { headers: { 'content-type': 'application/json', accept: 'application/json', ...authHeaders(token) }, token };
}

/** On 401: marks `authRequired` (the login view replaces the dashboard) and returns the error to throw. */
export function unauthenticated(token: string | null, errors: GraphQLErrorBody[] | undefined): AuthRequiredError {
  const message = errors?.[0]?.message ?? 'Sign in to continue';
  useAuthStore.getState().requireAuth(token, token ? `The server refused the token: ${message}` : undefined);
  return new AuthRequiredError(message);
}

/** A FORBIDDEN error becomes a ForbiddenError, any other a GraphQLError; all messages are joined. */
export function errorOf(errors: GraphQLErrorBody[]): GraphQLError {
  const message = errors.map((e) => e.message).join('; ');
  return errors.some((e) => e.extensions?.code === 'FORBIDDEN') ? new ForbiddenError(message) : new GraphQLError(message);
}

/** POSTs one GraphQL operation to `/graphql` and returns `data`, throwing on any error. */
export async function gql<T>(query: string, variables: Record<string, unknown> = {}, signal?: AbortSignal): Promise<T> {
  const { headers, token } = requestHeaders();
  let res: Response;
  try {
    res = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }), signal });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new GraphQLError('Cannot reach the Costwatch server');
  }
  let body: { data?: T; errors?: GraphQLErrorBody[] } | undefined;
  try {
    body = await res.json();
  } catch {
    if (res.status !== 401) throw new GraphQLError(`Server answered ${res.status} ${res.statusText}`.trim());
  }
  if (res.status === 401) throw unauthenticated(token, body?.errors);
  if (body?.errors?.length) throw errorOf(body.errors);
  if (!res.ok || !body?.data) throw new GraphQLError(`Server answered ${res.status}`);
  return body.data;
}
