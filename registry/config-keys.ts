import { UserError } from '../schemas/user-error.js';
import type { ConfigObject } from './artifact-kinds.js';

/**
 * Dotted configuration keys (`retentionDays`, `sampling.rate`, `sampling.strata.errors`), as
 * `flywheel agent set` and PATCH /api/agents/:id take them. Objects along the path are
 * created as needed; a list is set whole (as JSON), never by index.
 */

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function segments(key: string): string[] {
  const parts = key.split('.');
  if (parts.some((p) => p === ''))
    throw new UserError(
      `"${key}" is not a configuration key: write sections and fields joined by dots, e.g. sampling.rate; nothing was changed.`,
    );
  return parts;
}

/** A copy of `config` with each key set (`null`: removed, so its default applies). */
export function withKeys(config: ConfigObject, set: Readonly<Record<string, unknown>>): ConfigObject {
  const next = structuredClone(config) as Record<string, unknown>;
  for (const [key, value] of Object.entries(set)) {
    const path = segments(key);
    let node = next;
    for (const [i, part] of path.slice(0, -1).entries()) {
      const child = node[part];
      if (child === undefined || child === null) node[part] = {};
      else if (!isPlainObject(child)) {
        const at = path.slice(0, i + 1).join('.');
        throw new UserError(
          `${at} is ${Array.isArray(child) ? 'a list' : `a ${typeof child}`}, so ${key} cannot be set inside it: set ${at} itself (as JSON); nothing was changed.`,
        );
      }
      node = node[part] as Record<string, unknown>;
    }
    const last = path.at(-1)!;
    if (value === null) delete node[last];
    else node[last] = value;
  }
  return next;
}

function hasPath(value: unknown, path: readonly string[]): boolean {
  let node = value;
  for (const part of path) {
    if (!isPlainObject(node) || !(part in node)) return false;
    node = node[part];
  }
  return true;
}

/** What a misspelt key could have been: the keys next to it in the validated configuration. */
export function keysBeside(validated: unknown, key: string): string[] {
  let node = validated;
  for (const part of segments(key).slice(0, -1)) {
    if (!isPlainObject(node) || !(part in node)) return [];
    node = node[part];
  }
  return isPlainObject(node) ? Object.keys(node) : [];
}

/**
 * The keys set to a value that the validated configuration dropped: the schema strips keys it
 * does not know, so a misspelt key would otherwise be accepted and do nothing.
 */
export function unknownKeys(validated: unknown, set: Readonly<Record<string, unknown>>): string[] {
  return Object.entries(set)
    .filter(([key, value]) => value !== null && !hasPath(validated, segments(key)))
    .map(([key]) => key);
}

/**
 * A `key=value` argument: the value is read as JSON when it parses (numbers, true/false,
 * null, lists, objects, "quoted strings"), else taken as a plain string.
 */
export function parseKeyValue(argument: string): [string, unknown] {
  const eq = argument.indexOf('=');
  if (eq <= 0)
    throw new UserError(
      `"${argument}" is not key=value: write e.g. retentionDays=14 or sampling.rate=0.1; nothing was changed.`,
    );
  const key = argument.slice(0, eq).trim();
  const text = argument.slice(eq + 1);
  try {
    return [key, JSON.parse(text) as unknown];
  } catch {
    return [key, text];
  }
}
