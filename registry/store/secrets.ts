import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Bearer secrets (personal tokens, session ids): random, shown once, stored as SHA-256 only.
 * 32 random bytes cannot be guessed, so a fast unsalted hash is enough to look them up by and
 * keeps a database dump from holding working credentials.
 */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** `prefix` + 32 random bytes (base64url): the prefix tells a reader (and secret scanners) what it is. */
export function newSecret(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

/** A public id for lists and audit rows: `prefix` + 12 hex digits; it opens nothing. */
export function newPublicId(prefix: string): string {
  return `${prefix}${randomBytes(6).toString('hex')}`;
}

/**
 * The CSRF token of a console session: an HMAC of a fixed label keyed with the session's
 * secret, so it is recomputed from the cookie on every check and never stored. Only someone
 * who holds the cookie's value can know it; a cross-site form cannot.
 */
export function csrfTokenFor(sessionSecret: string): string {
  return createHmac('sha256', sessionSecret).update('flywheel-csrf-v1').digest('base64url');
}

/** Compares a presented CSRF token with the expected one in constant time. */
export function csrfTokenMatches(expected: string, presented: string | undefined | null): boolean {
  if (typeof presented !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}
