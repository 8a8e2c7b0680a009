import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password hashes: scrypt in the PHC string format, `$scrypt$ln=15,r=8,p=3$<salt>$<key>`
 * (unpadded base64), so each stored hash carries the salt and parameters it was made with and
 * a later change of the defaults still verifies old hashes. N = 2^15, r = 8, p = 3 is one of
 * OWASP's equivalent scrypt settings: 32 MiB per hash (a p of 3 costs time, not memory), about
 * 0.3 s on a small server; the login throttle keeps guessing from turning that into load.
 */
export interface ScryptParams {
  /** log2 of N, the CPU and memory cost. */
  ln: number;
  r: number;
  p: number;
}

export const DEFAULT_SCRYPT: ScryptParams = { ln: 15, r: 8, p: 3 };
const KEY_BYTES = 32;
const SALT_BYTES = 16;
// What a stored hash may ask for: a corrupted or hostile row must not make verification
// allocate gigabytes or run for minutes.
const LIMITS = { ln: [10, 20], r: [1, 32], p: [1, 16] } as const;

const b64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const options: ScryptOptions = {
    N: 2 ** params.ln,
    r: params.r,
    p: params.p,
    // Node's default cap (32 MiB) is exactly what N = 2^15, r = 8 needs, and scrypt needs a
    // little more than 128·N·r: allow twice the need.
    maxmem: 256 * 2 ** params.ln * params.r,
  };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, KEY_BYTES, options, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

/** A new hash of `password` with a fresh random salt. */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params);
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${b64(salt)}$${b64(key)}`;
}

/** The parts of a stored hash, or null when it is not one this module wrote (or is out of bounds). */
export function parsePasswordHash(
  stored: string,
): { params: ScryptParams; salt: Buffer; key: Buffer } | null {
  const match = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(stored);
  if (!match) return null;
  const params = { ln: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
  for (const name of ['ln', 'r', 'p'] as const) {
    const [min, max] = LIMITS[name];
    if (params[name] < min || params[name] > max) return null;
  }
  const salt = Buffer.from(match[4]!, 'base64');
  const key = Buffer.from(match[5]!, 'base64');
  if (salt.length < 8 || key.length !== KEY_BYTES) return null;
  return { params, salt, key };
}

// Verified against when there is no hash to check (unknown user, no password set), so those
// answers take as long as a wrong password and timing does not tell which it was.
let decoy: Promise<string> | undefined;

/**
 * Whether `password` matches `stored`. Always derives a key (a decoy one when `stored` is
 * null or unreadable) and compares in constant time.
 */
export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  const parsed = stored === null ? null : parsePasswordHash(stored);
  if (!parsed) {
    decoy ??= hashPassword('flywheel decoy password');
    const fake = parsePasswordHash(await decoy)!;
    await derive(password, fake.salt, fake.params);
    return false;
  }
  const key = await derive(password, parsed.salt, parsed.params);
  return timingSafeEqual(key, parsed.key);
}
