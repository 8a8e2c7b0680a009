import { UserError } from '../schemas/user-error.js';

/**
 * Password guessing limits, per user name and per client address: `maxFailures` failed
 * sign-ins within `windowMs` lock the name (or address) for `baseLockMs`, and each further
 * lock doubles, up to `maxLockMs`; a whole window without failures forgets the history. A
 * locked attempt is refused before the password is checked, so guessing costs no scrypt.
 *
 * Pure and in memory: the clock is an argument. Each API process keeps its own counts, so N
 * replicas allow N times the attempts, which the locks' doubling still keeps small.
 */
export interface ThrottleLimit {
  maxFailures: number;
  windowMs: number;
  baseLockMs: number;
  maxLockMs: number;
}

export interface LoginThrottleOptions {
  user: ThrottleLimit;
  /** Looser than per user: one address (an office, a NAT) may be many people. */
  ip: ThrottleLimit;
  /** Bound on remembered names and addresses; quiet ones are dropped first, then the oldest unlocked. */
  maxKeys: number;
}

const MINUTE = 60_000;
export const DEFAULT_LOGIN_THROTTLE: LoginThrottleOptions = {
  user: { maxFailures: 5, windowMs: 15 * MINUTE, baseLockMs: 30_000, maxLockMs: 15 * MINUTE },
  ip: { maxFailures: 20, windowMs: 15 * MINUTE, baseLockMs: 30_000, maxLockMs: 15 * MINUTE },
  maxKeys: 10_000,
};

/** Who is trying: the user name as typed and the client address (null when unknown, e.g. the CLI). */
export interface LoginAttempt {
  user: string;
  ip: string | null;
}

interface Entry {
  kind: 'user' | 'ip';
  /** Failure times within the current window, oldest first. */
  failures: number[];
  lockedUntil: number;
  /** Locks so far; the next lasts baseLockMs · 2^locks. */
  locks: number;
  lastFailure: number;
}

/** A 429: the API answers it with Retry-After, the CLI says how long to wait. */
export class TooManyAttemptsError extends UserError {
  override name = 'TooManyAttemptsError';
  constructor(readonly retryAfterSeconds: number) {
    super(
      `Too many failed sign-ins: try again in ${retryAfterSeconds} s. Nothing was checked.`,
      'too_many_requests',
    );
  }
}

export class LoginThrottle {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: LoginThrottleOptions = DEFAULT_LOGIN_THROTTLE) {}

  /** Seconds to wait before this attempt may be checked; 0: go ahead. */
  retryAfter(attempt: LoginAttempt, now: number): number {
    let until = 0;
    for (const key of this.keysOf(attempt)) {
      const entry = this.entries.get(key);
      if (entry) until = Math.max(until, entry.lockedUntil);
    }
    return until > now ? Math.ceil((until - now) / 1000) : 0;
  }

  /** Records a failed sign-in; returns the seconds the next attempt must wait (0 while under the limits). */
  failed(attempt: LoginAttempt, now: number): number {
    for (const key of this.keysOf(attempt)) {
      const limit = key.startsWith('user:') ? this.options.user : this.options.ip;
      let entry = this.entries.get(key);
      if (!entry || this.isQuiet(entry, now)) {
        entry = {
          kind: key.startsWith('user:') ? 'user' : 'ip',
          failures: [],
          lockedUntil: 0,
          locks: 0,
          lastFailure: now,
        };
        this.entries.delete(key);
        this.entries.set(key, entry);
      }
      entry.failures = entry.failures.filter((t) => t > now - limit.windowMs);
      entry.failures.push(now);
      entry.lastFailure = now;
      if (entry.failures.length >= limit.maxFailures) {
        entry.lockedUntil = now + Math.min(limit.baseLockMs * 2 ** entry.locks, limit.maxLockMs);
        entry.locks += 1;
        entry.failures = [];
      }
    }
    this.prune(now);
    return this.retryAfter(attempt, now);
  }

  /**
   * A sign-in that succeeded clears its user name's history. Not its address's: one working
   * account must not let an address go on guessing other people's passwords.
   */
  succeeded(attempt: LoginAttempt): void {
    this.entries.delete(userKey(attempt.user));
  }

  /** How many names and addresses are remembered (for the bound's test). */
  get size(): number {
    return this.entries.size;
  }

  private keysOf(attempt: LoginAttempt): string[] {
    return [userKey(attempt.user), ...(attempt.ip ? [`ip:${attempt.ip}`] : [])];
  }

  private isQuiet(entry: Entry, now: number): boolean {
    const limit = this.options[entry.kind];
    return entry.lockedUntil <= now && entry.lastFailure <= now - limit.windowMs;
  }

  private prune(now: number): void {
    if (this.entries.size <= this.options.maxKeys) return;
    for (const [key, entry] of this.entries) if (this.isQuiet(entry, now)) this.entries.delete(key);
    // Still too many: the oldest unlocked go first (a Map iterates in insertion order), so
    // spraying made-up names does not free a locked one; locks go last.
    for (const lockedToo of [false, true])
      for (const [key, entry] of this.entries) {
        if (this.entries.size <= this.options.maxKeys) return;
        if (lockedToo || entry.lockedUntil <= now) this.entries.delete(key);
      }
  }
}

// Case and surrounding spaces do not make a new name to guess under.
const userKey = (user: string) => `user:${user.trim().toLowerCase()}`;
