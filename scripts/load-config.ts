import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { AppConfig, RuntimeState, type ModelEndpoint, type ModelRoles } from '../schemas/config.js';

export const TASK_QUEUE = 'flywheel';
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
  return AppConfig.parse({
    home: path.resolve(cwd, env.FLYWHEEL_HOME ?? '.flywheel'),
    temporal: {
      address: env.TEMPORAL_ADDRESS ?? 'localhost:7233',
      namespace: env.TEMPORAL_NAMESPACE ?? 'default',
      apiKey: env.TEMPORAL_API_KEY || undefined,
      tls,
      taskQueue: env.FLYWHEEL_TASK_QUEUE ?? TASK_QUEUE,
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
  });
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
