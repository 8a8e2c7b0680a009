import { z } from 'zod';
import { DecisionKeyring, DecisionSigningKey } from './signed-decision.js';

export const ModelEndpoint = z.object({
  baseUrl: z.url(),
  model: z.string().min(1),
  apiKey: z.string().min(1),
  /**
   * How long one request may take, queueing at the server included; unset: 120 s. A small
   * model on a CPU answers one request at a time, so concurrent calls wait for each other.
   * Optional for runtime.json files written before it existed.
   */
  timeoutSeconds: z.number().positive().optional(),
  /** Requests in flight to this endpoint per process; unset: no limit (FLYWHEEL_<ROLE>_MAX_CONCURRENCY). */
  maxConcurrency: z.number().int().positive().optional(),
  /** After this many model faults in a row, calls pause for the cooldown; unset: 5 and 30 s. */
  circuitBreaker: z
    .object({
      failureThreshold: z.number().int().positive(),
      cooldownSeconds: z.number().positive(),
    })
    .optional(),
});
export type ModelEndpoint = z.infer<typeof ModelEndpoint>;

export const ModelRoles = z.object({
  agent: ModelEndpoint,
  judge: ModelEndpoint,
  teacher: ModelEndpoint,
  /** Optional: failure clustering falls back to a local hashed TF-IDF embedding. */
  embedder: ModelEndpoint.optional(),
});
export type ModelRoles = z.infer<typeof ModelRoles>;

/** One payload encryption key: `id` is stored in every payload it encrypts; `key` is 32 bytes, base64. */
export const CodecKey = z.object({
  id: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'key ids are 1-64 letters, digits, dots, dashes or underscores'),
  key: z.base64().length(44, 'a key is 32 bytes (44 base64 characters)'),
});
export type CodecKey = z.infer<typeof CodecKey>;

/**
 * How Temporal payloads (workflow inputs, results, signals, updates, queries, memos) are
 * encrypted before they reach the Temporal Service. `encrypt` with no keys is a process that
 * has not been given one: `flywheel dev` generates one into `keyFile`, the other processes
 * refuse to connect (workers/data-converter.ts).
 */
export const PayloadEncryption = z.object({
  /** False only when FLYWHEEL_CODEC=off: payloads are stored in plain text; the keys still read older ones. */
  encrypt: z.boolean(),
  /** The first key encrypts, every key decrypts (rotation: add a new first key, keep the old ones). */
  keys: z.array(CodecKey),
  /** Where the keys came from, for messages: an environment variable or a file. */
  source: z.string(),
  /** The key file under the Flywheel home: read when no keys are configured, written by `flywheel dev`. */
  keyFile: z.string(),
});
export type PayloadEncryption = z.infer<typeof PayloadEncryption>;

export const TemporalSettings = z.object({
  address: z.string().min(1),
  namespace: z.string().min(1),
  apiKey: z.string().optional(),
  tls: z
    .object({
      certPath: z.string().optional(),
      keyPath: z.string().optional(),
      caPath: z.string().optional(),
    })
    .optional(),
  taskQueue: z.string().min(1),
  payloadEncryption: PayloadEncryption,
});
export type TemporalSettings = z.infer<typeof TemporalSettings>;

/**
 * Keys of signed human decisions (Ed25519). The API signs each approval and rollout action
 * with `signing`; the workers' Update validators accept only signatures by a key in `verify`.
 * A worker needs only `verify` (public keys): it cannot sign.
 */
export const DecisionKeys = z.object({
  /** Null in a process that does not sign (a worker given FLYWHEEL_DECISION_VERIFY_KEYS only). */
  signing: DecisionSigningKey.nullable(),
  verify: DecisionKeyring,
  /** Where the signing key came from, for messages: an environment variable or a file. */
  source: z.string(),
  /** The key file under the Flywheel home: read when no key is configured, written by `flywheel dev`. */
  keyFile: z.string(),
});
export type DecisionKeys = z.infer<typeof DecisionKeys>;

/** A browser origin: scheme, host and port, nothing after (`http://localhost:8233`). */
const Origin = z.url().refine((value) => {
  try {
    return new URL(value).origin === value;
  } catch {
    return false;
  }
}, 'an origin is scheme://host[:port] with no path or trailing slash, e.g. http://localhost:8233');

/** How browsers reach the API: the console's session cookie and the Temporal Web UI's codec calls. */
export const WebSettings = z.object({
  /**
   * Whether the session cookie is `Secure` (sent over HTTPS only). The API itself speaks plain
   * HTTP; set it when TLS ends in front of it (FLYWHEEL_COOKIE_SECURE, or a FLYWHEEL_PUBLIC_URL
   * that starts with https://).
   */
  cookieSecure: z.boolean(),
  /** Origins whose pages may call the codec endpoints with credentials (the Temporal Web UI). */
  codecOrigins: z.array(Origin),
  /** Where people open the Temporal Web UI (FLYWHEEL_TEMPORAL_UI_URL); the console links cycles there. */
  temporalUiUrl: z.url().optional(),
});
export type WebSettings = z.infer<typeof WebSettings>;

export const AppConfig = z.object({
  home: z.string().min(1),
  temporal: TemporalSettings,
  /** Unset: the embedded PostgreSQL that `flywheel dev` runs. */
  databaseUrl: z.string().optional(),
  /** Null: no model configured, so `flywheel dev` starts the simulator. */
  models: ModelRoles.nullable(),
  apiPort: z.number().int().min(0).max(65535),
  /** OTLP/gRPC receiver (`flywheel dev`, `flywheel api --grpc`); 0: off. */
  otlpGrpcPort: z.number().int().min(0).max(65535),
  uiPort: z.number().int().min(1).max(65535),
  postgresPort: z.number().int().min(1).max(65535),
  simulatorPort: z.number().int().min(0).max(65535),
  /** The failure taxonomy file; unset: the one Flywheel ships (taxonomy/failure-taxonomy.jsonl). */
  taxonomyFile: z.string().optional(),
  /** Processes `flywheel api` runs on one port (node:cluster). */
  apiWorkers: z.number().int().min(1).max(64).default(1),
  /** Model calls one activity makes at once (per role client); a slow server wants fewer. */
  llmConcurrency: z.number().int().min(1).max(256).default(8),
  decisions: DecisionKeys,
  web: WebSettings,
});
export type AppConfig = z.infer<typeof AppConfig>;

/** What `flywheel dev` writes to `.flywheel/runtime.json` so CLI commands find the stack. */
export const RuntimeState = z.object({
  databaseUrl: z.string(),
  temporalAddress: z.string(),
  namespace: z.string(),
  apiUrl: z.string(),
  uiUrl: z.string(),
  models: ModelRoles,
  pid: z.number().int(),
});
export type RuntimeState = z.infer<typeof RuntimeState>;
