/**
 * A circuit breaker per model endpoint. When a model keeps failing (429, 5xx, timeouts,
 * refused connections), every activity that calls it would otherwise keep sending requests
 * and burning its retries against a server that is down or shedding load. After
 * `failureThreshold` failures in a row the circuit opens: calls fail at once, saying when to
 * try again, for `cooldownMs`; then one probe call is let through (half-open), and its
 * outcome closes the circuit or opens it again. Pure: the caller passes the time.
 */

export interface CircuitBreakerSettings {
  failureThreshold: number;
  cooldownMs: number;
}

export const DEFAULT_CIRCUIT_BREAKER: CircuitBreakerSettings = { failureThreshold: 5, cooldownMs: 30_000 };

export type CircuitDecision = { allowed: true } | { allowed: false; retryInMs: number; failures: number };

export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | null = null;
  private probing = false;

  constructor(private readonly settings: CircuitBreakerSettings = DEFAULT_CIRCUIT_BREAKER) {}

  get state(): 'closed' | 'open' | 'half-open' {
    if (this.openedAt === null) return 'closed';
    return this.probing ? 'half-open' : 'open';
  }

  /** Whether a call may go out now. In half-open state only one probe is in flight at a time. */
  request(now: number): CircuitDecision {
    if (this.openedAt === null) return { allowed: true };
    const retryInMs = this.openedAt + this.settings.cooldownMs - now;
    if (retryInMs > 0 || this.probing) {
      return { allowed: false, retryInMs: Math.max(retryInMs, 1000), failures: this.failures };
    }
    this.probing = true;
    return { allowed: true };
  }

  success(): void {
    this.failures = 0;
    this.openedAt = null;
    this.probing = false;
  }

  /** A failure that says the model is unwell (not a bad request, which is the caller's). */
  failure(now: number): void {
    this.failures += 1;
    if (this.probing || this.failures >= this.settings.failureThreshold) this.openedAt = now;
    this.probing = false;
  }
}
