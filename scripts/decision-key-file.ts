import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateDecisionKey } from '../release/decision-signing-service.js';
import type { DecisionSigningKey } from '../schemas/signed-decision.js';
import { parseDecisionSigningKey } from './load-config.js';

const HEADER = `# Flywheel decision signing key (Ed25519): <key id>:<base64url private key>.
# The API signs every approval and rollout action with it; workers verify with its public half.
# Anyone holding this file can sign decisions: keep it readable by its owner only.
`;

/**
 * The local stack's decision signing key: generated once into the Flywheel home, readable by
 * its owner only, and reused by every later `flywheel dev` and by CLI and API processes on
 * the same machine, which read the same file when no key is configured (scripts/load-config.ts).
 */
export function ensureDecisionKeyFile(
  file: string,
  now: Date,
): { key: DecisionSigningKey; created: boolean } {
  mkdirSync(path.dirname(file), { recursive: true });
  const key = generateDecisionKey(`local-${now.toISOString().slice(0, 10).replaceAll('-', '')}`);
  let created = false;
  try {
    // 'wx': never replace a key, even if two starts race here.
    writeFileSync(file, `${HEADER}${key.kid}:${key.privateKey}\n`, { mode: 0o600, flag: 'wx' });
    created = true;
  } catch (error) {
    if (!(error instanceof Error && 'code' in error && error.code === 'EEXIST')) throw error;
  }
  return { key: parseDecisionSigningKey(readFileSync(file, 'utf8'), file), created };
}
