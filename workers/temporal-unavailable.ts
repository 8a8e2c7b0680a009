/**
 * Whether an error from a Temporal client call means the server is away (restarting,
 * unreachable, overloaded) rather than that the request was wrong: gRPC UNAVAILABLE,
 * DEADLINE_EXCEEDED or RESOURCE_EXHAUSTED, found on the error or its causes.
 */
const UNAVAILABLE_GRPC_CODES = new Set([14, 4, 8]);

export function isTemporalUnavailable(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 4) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'number' && UNAVAILABLE_GRPC_CODES.has(code)) return true;
  if (error.name === 'ConnectionError' || error.name === 'TransportError') return true;
  return isTemporalUnavailable(error.cause, depth + 1);
}
