import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  AppConfig,
  RuntimeState,
  type CodecKey,
  type DecisionKeys,
  type ModelEndpoint,
  type ModelRoles,
  type PayloadEncryption,
  type WebSettings,
} from '../schemas/config.js';
import { decisionPublicKey } from '../release/decision-signature.js';
import {
  DecisionKeyId,
  DecisionSigningKey,
  Ed25519Key,
  type DecisionKeyring,
} from '../schemas/signed-decision.js';

export const TASK_QUEUE = 'flywheel';
/** The payload key file `flywheel dev` generates under the Flywheel home when no key is configured. */
export const CODEC_KEY_FILE = 'codec-keys';
const ROLES = ['agent', 'judge', 'teacher', 'embedder'] as const;

/**
 * Environment → typed configuration, once, at the entry point. Model endpoints are
 * configured per role (FLYWHEEL_<ROLE>_BASE_URL/_MODEL/_API_KEY) with shared fallbacks
 * (FLYWHEEL_LLM_BASE_URL or OPENAI_BASE_URL, FLYWHEEL_LLM_API_KEY or OPENAI_API_KEY).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): AppConfig {
  const sharedBase = env.FLYWHEEL_LLM_BASE_URL ?? env.OPENAI_BASE_URL;
  const sharedKey = env.FLYWHEEL_LLM_API_KEY ?? env.OPENAI_API_KEY;
  const sharedTimeout = env.FLYWHEEL_LLM_TIMEOUT_SECONDS;
  const anyModel = sharedBase || sharedKey || ROLES.some((r) => env[`FLYWHEEL_${r.toUpperCase()}_BASE_URL`]);
  let models: ModelRoles | null = null;
  if (anyModel) {
    const problems: string[] = [];
    const endpoint = (role: (typeof ROLES)[number]): ModelEndpoint => {
      const up = role.toUpperCase();
      const baseUrl = env[`FLYWHEEL_${up}_BASE_URL`] ?? sharedBase ?? 'https://api.openai.com/v1';
      const model = env[`FLYWHEEL_${up}_MODEL`];
      const apiKey = env[`FLYWHEEL_${up}_API_KEY`] ?? sharedKey ?? 'none';
      if (!model) problems.push(`FLYWHEEL_${up}_MODEL`);
      const timeoutName = env[`FLYWHEEL_${up}_TIMEOUT_SECONDS`]
        ? `FLYWHEEL_${up}_TIMEOUT_SECONDS`
        : 'FLYWHEEL_LLM_TIMEOUT_SECONDS';
      const timeout = env[`FLYWHEEL_${up}_TIMEOUT_SECONDS`] || sharedTimeout;
      if (timeout !== undefined && timeout !== '' && !(Number(timeout) > 0))
        throw new Error(`${timeoutName}=${timeout} is not a positive number of seconds`);
      const concurrencyName = env[`FLYWHEEL_${up}_MAX_CONCURRENCY`]
        ? `FLYWHEEL_${up}_MAX_CONCURRENCY`
        : 'FLYWHEEL_LLM_MAX_CONCURRENCY';
      const concurrency = env[`FLYWHEEL_${up}_MAX_CONCURRENCY`] || env.FLYWHEEL_LLM_MAX_CONCURRENCY;
      if (concurrency !== undefined && concurrency !== '' && !/^[1-9]\d*$/.test(concurrency))
        throw new Error(`${concurrencyName}=${concurrency} is not a positive whole number of requests`);
      return {
        baseUrl,
        model: model ?? '',
        apiKey,
        ...(timeout ? { timeoutSeconds: Number(timeout) } : {}),
        ...(concurrency ? { maxConcurrency: Number(concurrency) } : {}),
      };
    };
    models = {
      agent: endpoint('agent'),
      judge: endpoint('judge'),
      teacher: endpoint('teacher'),
      // No embedder model: diagnosis clusters with its local TF-IDF embedding instead.
      ...(env.FLYWHEEL_EMBEDDER_MODEL ? { embedder: endpoint('embedder') } : {}),
    };
    if (problems.length > 0) {
      throw new Error(
        `A model endpoint is configured but ${problems.join(', ')} ${problems.length > 1 ? 'are' : 'is'} not set. ` +
          'Set a model name for every role, or unset FLYWHEEL_LLM_BASE_URL/OPENAI_* to use the built-in simulator.',
      );
    }
    if (models.teacher.model === models.agent.model && models.teacher.baseUrl === models.agent.baseUrl) {
      throw new Error(
        `The teacher model (${models.teacher.model}) is the agent model: a model cannot coach itself. Set FLYWHEEL_TEACHER_MODEL to a different model.`,
      );
    }
  }
  const int = (name: string, fallback: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n)) throw new Error(`${name}=${raw} is not a whole number`);
    return n;
  };
  const tls =
    env.TEMPORAL_TLS_CERT || env.TEMPORAL_TLS_KEY || env.TEMPORAL_TLS_CA
      ? { certPath: env.TEMPORAL_TLS_CERT, keyPath: env.TEMPORAL_TLS_KEY, caPath: env.TEMPORAL_TLS_CA }
      : undefined;
  const home = path.resolve(cwd, env.FLYWHEEL_HOME ?? '.flywheel');
  return AppConfig.parse({
    home,
    temporal: {
      address: env.TEMPORAL_ADDRESS ?? 'localhost:7233',
      namespace: env.TEMPORAL_NAMESPACE ?? 'default',
      apiKey: env.TEMPORAL_API_KEY || undefined,
      tls,
      taskQueue: env.FLYWHEEL_TASK_QUEUE ?? TASK_QUEUE,
      payloadEncryption: payloadEncryption(env, cwd, home),
    },
    databaseUrl: env.DATABASE_URL || undefined,
    models,
    apiPort: int('FLYWHEEL_API_PORT', 8080),
    // OTLP exporters default to gRPC on 4317; 0 turns the gRPC receiver off.
    otlpGrpcPort: int('FLYWHEEL_OTLP_GRPC_PORT', 4317),
    uiPort: int('FLYWHEEL_UI_PORT', 8233),
    postgresPort: int('FLYWHEEL_POSTGRES_PORT', 54329),
    simulatorPort: int('FLYWHEEL_SIMULATOR_PORT', 0),
    taxonomyFile: env.FLYWHEEL_TAXONOMY_FILE || undefined,
    apiWorkers: int('FLYWHEEL_API_WORKERS', 1),
    llmConcurrency: int('FLYWHEEL_LLM_CONCURRENCY', 8),
    decisions: decisionKeys(env, home),
    web: webSettings(env, int('FLYWHEEL_UI_PORT', 8233)),
  });
}

/**
 * The session cookie's Secure attribute: FLYWHEEL_COOKIE_SECURE=true|false, else on when
 * FLYWHEEL_PUBLIC_URL (where people reach the API) is https. The codec endpoints' browser
 * origins: FLYWHEEL_CODEC_CORS_ORIGINS (comma-separated), else the local Temporal Web UI.
 */
function webSettings(env: NodeJS.ProcessEnv, uiPort: number): WebSettings {
  const flag = env.FLYWHEEL_COOKIE_SECURE ?? '';
  if (!['', 'true', 'false'].includes(flag))
    throw new Error(
      `FLYWHEEL_COOKIE_SECURE=${flag} is not a setting: set it to true when people reach the API over HTTPS, false when not, or leave it unset to follow FLYWHEEL_PUBLIC_URL.`,
    );
  const publicUrl = env.FLYWHEEL_PUBLIC_URL ?? '';
  if (publicUrl !== '' && !/^https?:\/\//.test(publicUrl))
    throw new Error(
      `FLYWHEEL_PUBLIC_URL=${publicUrl} is not an http:// or https:// URL (where people reach the API, e.g. https://flywheel.example.com).`,
    );
  const origins = (env.FLYWHEEL_CODEC_CORS_ORIGINS ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o !== '');
  for (const origin of origins) {
    let exact = false;
    try {
      exact = new URL(origin).origin === origin;
    } catch {
      // reported below
    }
    if (!exact)
      throw new Error(
        `FLYWHEEL_CODEC_CORS_ORIGINS: "${origin}" is not an origin; give scheme://host[:port] with no path or trailing slash, e.g. https://temporal.example.com.`,
      );
  }
  const temporalUiUrl = (env.FLYWHEEL_TEMPORAL_UI_URL ?? '').replace(/\/+$/, '');
  if (temporalUiUrl !== '' && !/^https?:\/\//.test(temporalUiUrl))
    throw new Error(
      `FLYWHEEL_TEMPORAL_UI_URL=${temporalUiUrl} is not an http:// or https:// URL (where people open the Temporal Web UI, e.g. https://temporal.example.com).`,
    );
  return {
    cookieSecure: flag === '' ? publicUrl.startsWith('https://') : flag === 'true',
    codecOrigins: origins.length > 0 ? origins : [`http://localhost:${uiPort}`, `http://127.0.0.1:${uiPort}`],
    // Unset: the dev server's UI on this machine, as `flywheel dev` prints it.
    temporalUiUrl: temporalUiUrl || `http://localhost:${uiPort}`,
  };
}

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const KEY_BYTES = 32;

/**
 * Payload keys written as `id:base64key` entries separated by commas or line breaks, the
 * first one active; in a key file, `#` starts a comment. Messages never echo key material.
 */
export function parseCodecKeys(text: string, source: string): CodecKey[] {
  const entries = text
    .split('\n')
    .map((line) => line.replace(/#.*/, ''))
    .join(',')
    .split(/[,\s]+/)
    .filter((entry) => entry !== '');
  const keys = entries.map((entry, i): CodecKey => {
    const colon = entry.indexOf(':');
    const id = entry.slice(0, Math.max(colon, 0));
    if (colon < 0 || !KEY_ID.test(id))
      throw new Error(
        `${source}: entry ${i + 1} is not <id>:<base64 key> with an id of 1-64 letters, digits, dots, dashes or underscores.`,
      );
    const encoded = entry.slice(colon + 1);
    const bytes = Buffer.from(encoded, 'base64');
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded) || bytes.length !== KEY_BYTES)
      throw new Error(
        `${source}: key "${id}" is not ${KEY_BYTES} bytes of base64 (generate one with \`openssl rand -base64 32\`).`,
      );
    return { id, key: bytes.toString('base64') };
  });
  const ids = keys.map((k) => k.id);
  const twice = ids.find((id, i) => ids.indexOf(id) !== i);
  if (twice !== undefined)
    throw new Error(`${source}: key id "${twice}" appears twice; each key needs its own id.`);
  return keys;
}

/**
 * Payload encryption: FLYWHEEL_CODEC_KEYS, else the file FLYWHEEL_CODEC_KEYS_FILE names,
 * else the key file under the Flywheel home (what `flywheel dev` generated, so CLI commands
 * on the same machine read its cycles). FLYWHEEL_CODEC=off turns encryption of new payloads off.
 */
function payloadEncryption(env: NodeJS.ProcessEnv, cwd: string, home: string): PayloadEncryption {
  const mode = env.FLYWHEEL_CODEC ?? '';
  if (!['', 'on', 'off'].includes(mode))
    throw new Error(
      `FLYWHEEL_CODEC=${mode} is not a setting: leave it unset to encrypt Temporal payloads, or set it to off to store them in plain text.`,
    );
  const keyFile = path.join(home, CODEC_KEY_FILE);
  const fromFile = (file: string, what: string) => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new Error(
        `${what} ${file} cannot be read (${error instanceof Error ? error.message : String(error)}).`,
      );
    }
    return parseCodecKeys(text, file);
  };
  let keys: CodecKey[] = [];
  let source = 'none';
  if (env.FLYWHEEL_CODEC_KEYS && env.FLYWHEEL_CODEC_KEYS_FILE)
    throw new Error('Both FLYWHEEL_CODEC_KEYS and FLYWHEEL_CODEC_KEYS_FILE are set: set one of them.');
  if (env.FLYWHEEL_CODEC_KEYS) {
    keys = parseCodecKeys(env.FLYWHEEL_CODEC_KEYS, 'FLYWHEEL_CODEC_KEYS');
    source = 'FLYWHEEL_CODEC_KEYS';
  } else if (env.FLYWHEEL_CODEC_KEYS_FILE) {
    source = path.resolve(cwd, env.FLYWHEEL_CODEC_KEYS_FILE);
    keys = fromFile(source, 'FLYWHEEL_CODEC_KEYS_FILE');
  } else if (existsSync(keyFile)) {
    source = keyFile;
    keys = fromFile(keyFile, 'The payload key file');
  }
  if (source !== 'none' && keys.length === 0)
    throw new Error(`${source} holds no payload key: give at least one <id>:<base64 key>.`);
  return { encrypt: mode !== 'off', keys, source, keyFile };
}

/** The decision signing key `flywheel dev` generates under the Flywheel home when none is configured. */
export const DECISION_KEY_FILE = 'decision-signing-key';
const NEW_DECISION_KEY = 'generate one with `npm run flywheel -- decision-key new`';

/** `<key id>:<key>` entries separated by commas or line breaks; in a file, `#` starts a comment. */
function keyEntries(text: string, source: string, what: string): [string, string][] {
  return text
    .split('\n')
    .map((line) => line.replace(/#.*/, ''))
    .join(',')
    .split(/[,\s]+/)
    .filter((entry) => entry !== '')
    .map((entry, i) => {
      const colon = entry.indexOf(':');
      const kid = entry.slice(0, Math.max(colon, 0));
      // Messages name the entry and the key id, never key material.
      if (colon < 0 || !DecisionKeyId.safeParse(kid).success)
        throw new Error(
          `${source}: entry ${i + 1} is not <key id>:<${what}> with a key id of 1-64 letters, digits, dots, dashes or underscores.`,
        );
      if (!Ed25519Key.safeParse(entry.slice(colon + 1)).success)
        throw new Error(
          `${source}: key "${kid}" is not an Ed25519 ${what} (32 bytes as 43 base64url characters); ${NEW_DECISION_KEY}.`,
        );
      return [kid, entry.slice(colon + 1)];
    });
}

/** The API's signing key: one `<key id>:<base64url Ed25519 private key>`. */
export function parseDecisionSigningKey(text: string, source: string): DecisionSigningKey {
  const entries = keyEntries(text, source, 'private key');
  if (entries.length !== 1)
    throw new Error(`${source} must hold exactly one <key id>:<private key> (it holds ${entries.length}).`);
  const [kid, privateKey] = entries[0]!;
  return DecisionSigningKey.parse({ kid, privateKey });
}

/** The workers' public keys: `<key id>:<base64url Ed25519 public key>`, several during a rotation. */
export function parseDecisionVerifyKeys(text: string, source: string): DecisionKeyring {
  const keyring: DecisionKeyring = {};
  for (const [kid, publicKey] of keyEntries(text, source, 'public key')) {
    if (kid in keyring)
      throw new Error(`${source}: key id "${kid}" appears twice; each key needs its own id.`);
    keyring[kid] = publicKey;
  }
  return keyring;
}

/**
 * Decision keys: the signing key from FLYWHEEL_DECISION_SIGNING_KEY, else the key file under
 * the Flywheel home (what `flywheel dev` generated, so a CLI or API on the same machine signs
 * with it); the verification keys from FLYWHEEL_DECISION_VERIFY_KEYS plus the signing key's
 * public half, so a process that signs also verifies its own decisions.
 */
function decisionKeys(env: NodeJS.ProcessEnv, home: string): DecisionKeys {
  const keyFile = path.join(home, DECISION_KEY_FILE);
  let signing: DecisionSigningKey | null = null;
  let source = 'none';
  if (env.FLYWHEEL_DECISION_SIGNING_KEY) {
    source = 'FLYWHEEL_DECISION_SIGNING_KEY';
    signing = parseDecisionSigningKey(env.FLYWHEEL_DECISION_SIGNING_KEY, source);
  } else if (existsSync(keyFile)) {
    source = keyFile;
    signing = parseDecisionSigningKey(readFileSync(keyFile, 'utf8'), keyFile);
  }
  const verify = env.FLYWHEEL_DECISION_VERIFY_KEYS
    ? parseDecisionVerifyKeys(env.FLYWHEEL_DECISION_VERIFY_KEYS, 'FLYWHEEL_DECISION_VERIFY_KEYS')
    : {};
  if (signing) {
    const own = decisionPublicKey(signing.privateKey);
    if (verify[signing.kid] !== undefined && verify[signing.kid] !== own)
      throw new Error(
        `FLYWHEEL_DECISION_VERIFY_KEYS gives key "${signing.kid}" a public key that is not the one of the signing key with that id (${source}).`,
      );
    verify[signing.kid] = own;
  }
  return { signing, verify, source, keyFile };
}

export function runtimeStatePath(config: AppConfig): string {
  return path.join(config.home, 'runtime.json');
}

/** The stack a running `flywheel dev` announced, if any. */
export function readRuntimeState(config: AppConfig): RuntimeState | null {
  const file = runtimeStatePath(config);
  if (!existsSync(file)) return null;
  const parsed = RuntimeState.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  return parsed.success ? parsed.data : null;
}
