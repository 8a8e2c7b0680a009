import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CodecKey } from '../schemas/config.js';
import { parseCodecKeys } from './load-config.js';

const HEADER = `# Flywheel payload encryption keys (AES-256-GCM), one <id>:<base64 32-byte key> per line.
# The first key encrypts new Temporal payloads; every key decrypts. To rotate, add a new line
# at the top and keep the old ones while histories they encrypted are within retention.
# Losing this file makes the histories it encrypted unreadable.
`;

/**
 * The local stack's payload key: generated once into the Flywheel home, readable by its owner
 * only, and reused by every later `flywheel dev` and by CLI commands, which read the same
 * file when no key is configured (scripts/load-config.ts).
 */
export function ensureCodecKeyFile(file: string, now: Date): { keys: CodecKey[]; created: boolean } {
  mkdirSync(path.dirname(file), { recursive: true });
  const id = `local-${now.toISOString().slice(0, 10).replaceAll('-', '')}`;
  let created = false;
  try {
    // 'wx': never overwrite a key that encrypted histories, even if two starts race here.
    writeFileSync(file, `${HEADER}${id}:${randomBytes(32).toString('base64')}\n`, {
      mode: 0o600,
      flag: 'wx',
    });
    created = true;
  } catch (error) {
    if (!(error instanceof Error && 'code' in error && error.code === 'EEXIST')) throw error;
  }
  return { keys: parseCodecKeys(readFileSync(file, 'utf8'), file), created };
}
