import type { IncomingHttpHeaders } from 'node:http';
import { CODEC_PATH } from './codec-routes.js';

/** What a CORS check adds to an answer, and for a preflight the whole answer. */
export interface CorsAnswer {
  headers: Record<string, string>;
  /** Set for a preflight (OPTIONS): answer it with this, the route never runs. */
  status?: number;
  body?: { error: string };
}

/** The headers the Temporal Web UI sends to a codec server (Authorization when it passes a token). */
const ALLOWED_HEADERS = 'content-type, x-namespace, authorization';

/**
 * CORS for the codec endpoints only: the Temporal Web UI calls them from its own origin, with
 * credentials ("Include cross-origin credentials"), so the answer names that origin exactly and
 * allows credentials. Other origins get no CORS headers (the browser keeps the answer from
 * them) and a refused preflight. Every other route stays same-origin: a page elsewhere
 * cannot read any answer of the API.
 */
export function codecCors(origins: readonly string[]) {
  const allowed = new Set(origins);
  return {
    /** Whether `url` (path and query) is a codec endpoint. */
    applies: (url: string): boolean => {
      const path = url.split('?')[0] ?? '';
      return path === CODEC_PATH || path.startsWith(`${CODEC_PATH}/`);
    },
    answer(method: string, headers: IncomingHttpHeaders): CorsAnswer {
      const origin = headers.origin;
      // Not a browser's cross-origin call (the CLI, curl, a same-origin page): nothing to add.
      if (typeof origin !== 'string') return { headers: {} };
      const granted: Record<string, string> = allowed.has(origin)
        ? {
            'access-control-allow-origin': origin,
            'access-control-allow-credentials': 'true',
            vary: 'Origin',
          }
        : { vary: 'Origin' };
      if (method !== 'OPTIONS') return { headers: granted };
      if (!allowed.has(origin))
        return {
          headers: granted,
          status: 403,
          body: {
            error: `Pages from ${origin} may not call the codec endpoints; the allowed origins are ${[...allowed].join(', ') || 'none'} (FLYWHEEL_CODEC_CORS_ORIGINS).`,
          },
        };
      return {
        headers: {
          ...granted,
          'access-control-allow-methods': 'POST',
          'access-control-allow-headers': ALLOWED_HEADERS,
          'access-control-max-age': '600',
        },
        status: 204,
      };
    },
  };
}
