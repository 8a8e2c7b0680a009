/**
 * One request to the API as a person, as the integration tests make them: a JSON body (a
 * string is sent as it is, so a test can send a malformed one), the person's headers, and
 * the answer parsed as JSON (`{}` for an empty one) with its status.
 */
export async function callApi<T = Record<string, unknown>>(
  baseUrl: string,
  headers: Record<string, string> | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: T }> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : {}) as T };
}
