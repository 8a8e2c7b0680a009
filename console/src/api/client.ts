import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema.js';

/**
 * The console's API client: every path, parameter and body is checked against the API's
 * OpenAPI document (schema.d.ts). Requests go to the same origin with the session cookie;
 * the ones that change something carry the session's CSRF token, which lives only in memory
 * (it comes back from GET /api/me after a reload).
 */
export const api = createClient<paths>({ baseUrl: '' });

let csrfToken: string | null = null;
export const setCsrfToken = (token: string | null) => {
  csrfToken = token;
};

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);
const csrf: Middleware = {
  onRequest({ request }) {
    if (!SAFE.has(request.method) && csrfToken) request.headers.set('x-csrf-token', csrfToken);
    return request;
  },
};
api.use(csrf);

/** An API answer that was not a success, with the API's own message (it says what to do). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The request field the API says the problem is about (`expected.arguments`), if one. */
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Listeners told when the session ended under the page (401): the app shows the sign-in page. */
const signedOutListeners = new Set<() => void>();
export const onSignedOut = (listener: () => void) => {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
};

/**
 * The answer of an openapi-fetch call as `T`, or an ApiError with the API's message. `T`
 * comes from api/types.ts, which imports it from the services that answer.
 */
export async function answer<T>(
  call: Promise<{ data?: unknown; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok) return data as T;
  const message =
    typeof error === 'object' && error !== null && 'error' in error && typeof error.error === 'string'
      ? error.error
      : `${response.status} ${response.statusText}`;
  if (response.status === 401) for (const listener of signedOutListeners) listener();
  const field =
    typeof error === 'object' && error !== null && 'field' in error && typeof error.field === 'string'
      ? error.field
      : undefined;
  throw new ApiError(response.status, message, field);
}
