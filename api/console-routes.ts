import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApiRoute, RouteAnswer } from './api-route.js';

/** Where `npm run console:build` writes the console (scripts/console-build.ts). */
export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../console/dist/', import.meta.url));

/**
 * The console's own Content-Security-Policy, in place of the API's `default-src 'none'`:
 * scripts, styles and API calls from this origin only, no inline script or style, images
 * from here or data: URLs, never framed.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.map': 'application/json',
};
/** Vite's output names: a name, a content hash, an extension; nothing that climbs directories. */
const ASSET_NAME = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.[a-z0-9]+$/;

const notBuilt = (dir: string): RouteAnswer => ({
  status: 503,
  headers: { 'cache-control': 'no-store' },
  binary: {
    contentType: 'text/plain; charset=utf-8',
    data: Buffer.from(
      `The web console is not built (${dir} has no index.html). Run \`npm run console:build\` (npm install and flywheel dev do it), then reload.\n`,
    ),
  },
});

/**
 * The web console: its HTML shell for every /console/ path (the pages route on the client)
 * and its hashed assets. Public: the files hold no data; every datum comes from the
 * authenticated /api routes. Files are read when asked (the OS caches them), so a rebuild
 * is served without restarting the API.
 */
export function consoleRoutes(options: { consoleDir?: string } = {}): ApiRoute[] {
  const dir = options.consoleDir ?? DEFAULT_CONSOLE_DIR;
  const shell = async (): Promise<RouteAnswer> => {
    const html = await readFile(path.join(dir, 'index.html')).catch(() => null);
    if (!html) return notBuilt(dir);
    return {
      status: 200,
      // The shell names the current asset hashes: always revalidated.
      headers: { 'content-security-policy': CONSOLE_CSP, 'cache-control': 'no-cache' },
      binary: { contentType: 'text/html; charset=utf-8', data: html },
    };
  };
  const redirect = (): Promise<RouteAnswer> =>
    Promise.resolve({ status: 302, headers: { location: '/console/' } });
  return [
    {
      method: 'GET',
      url: '/',
      tag: 'console',
      summary: 'Redirects to the web console.',
      auth: { public: true },
      handler: redirect,
    },
    {
      method: 'GET',
      url: '/console',
      tag: 'console',
      summary: 'Redirects to the web console.',
      auth: { public: true },
      handler: redirect,
    },
    {
      method: 'GET',
      url: '/console/*',
      tag: 'console',
      summary: "The web console's page (the console routes its paths in the browser).",
      auth: { public: true },
      handler: shell,
    },
    {
      method: 'GET',
      url: '/console/assets/:file',
      tag: 'console',
      summary: "The web console's scripts and styles (content-hashed, cached for a year).",
      auth: { public: true },
      handler: async (r) => {
        const name = r.params.file ?? '';
        const type = TYPES[path.extname(name)];
        const data =
          ASSET_NAME.test(name) && type
            ? await readFile(path.join(dir, 'assets', name)).catch(() => null)
            : null;
        if (!data || !type) return { status: 404, body: { error: `No console asset ${name}.` } };
        return {
          status: 200,
          headers: {
            'content-security-policy': CONSOLE_CSP,
            'cache-control': 'public, max-age=31536000, immutable',
          },
          binary: { contentType: type, data },
        };
      },
    },
  ];
}
