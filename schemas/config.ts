import { z } from 'zod';

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
});
export type TemporalSettings = z.infer<typeof TemporalSettings>;

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
