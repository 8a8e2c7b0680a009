/**
 * The response headers every API answer carries, for a JSON API (OWASP REST Security Cheat
 * Sheet): no content sniffing, no framing, no resources loaded by a JSON body rendered as a
 * page, no referrer, not readable cross-origin by embedding. HSTS is left to the proxy that
 * terminates TLS. A fixed set written by one hook instead of @fastify/helmet: helmet ran a
 * dozen middlewares per request and cut bench:resolve from 5,509 to 3,920 requests/s on this
 * 2-core machine (same run, same load), for headers that never change.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
};
