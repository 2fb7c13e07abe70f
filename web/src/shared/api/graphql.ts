export class GraphQLError extends Error {}

/** POSTs one GraphQL operation to `/graphql` and returns `data`, throwing on any error. */
export async function gql<T>(query: string, variables: Record<string, unknown> = {}, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query, variables }),
      signal,
    });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new GraphQLError('Cannot reach the Costwatch server');
  }
  let body: { data?: T; errors?: { message: string }[] };
  try {
    body = await res.json();
  } catch {
    throw new GraphQLError(`Server answered ${res.status} ${res.statusText}`.trim());
  }
  if (body.errors?.length) throw new GraphQLError(body.errors.map((e) => e.message).join('; '));
  if (!res.ok || !body.data) throw new GraphQLError(`Server answered ${res.status}`);
  return body.data;
}
