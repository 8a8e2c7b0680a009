import type { Db } from '../db/connection.js';
import { RefreshedCache, type RefreshedCacheOptions } from './refreshed-cache-service.js';
import { productionLabels } from '../registry/store/prompt-labels.js';
import { existingPromptNames, servedVersionRows } from '../registry/store/prompt-repository.js';
import { runningRolloutsOf } from './store/rollout-repository.js';
import { PromptConfig, PromptBody } from '../schemas/prompt.js';
import {
  prepareAnswers,
  type PreparedAnswer,
  type RoutingState,
  type ServedVersion,
} from './prompt-resolver.js';

export interface RoutingSnapshot extends RoutingState {
  answers: { production: PreparedAnswer | null; candidate: PreparedAnswer | null };
  /** When the database read behind this snapshot started (ms, the `now` clock). */
  readAt: number;
}

export type RoutingSnapshotOptions = RefreshedCacheOptions;

export const DEFAULT_ROUTING_REFRESH_MS = 500;

/**
 * The per-process routing cache behind resolve. Each prompt name in use has a snapshot
 * (production version, running rollout and its weight, candidate, prompt bodies, the two
 * answers serialised), kept fresh as RefreshedCache describes: every refresh re-reads all
 * the names in use in one round of three small queries.
 */
export class RoutingSnapshots extends RefreshedCache<RoutingSnapshot> {
  /** Versions are immutable: their bodies are read once per process. */
  private readonly versions = new Map<string, ServedVersion>();

  constructor(
    private readonly db: Db,
    options: RoutingSnapshotOptions = {},
  ) {
    super(options, {
      refreshMs: DEFAULT_ROUTING_REFRESH_MS,
      failure: (detail) => `flywheel resolve: routing refresh failed (${detail}); serving the last snapshots`,
    });
  }

  protected read(names: string[]): Promise<Map<string, RoutingSnapshot>> {
    return this.load(names);
  }

  private async load(names: string[]): Promise<Map<string, RoutingSnapshot>> {
    const readAt = this.now();
    const [existing, labels, rollouts] = await Promise.all([
      existingPromptNames(this.db, names),
      productionLabels(this.db, names),
      runningRolloutsOf(this.db, names),
    ]);
    const wanted = [
      ...labels.map((l) => l.prompt_version_id),
      ...rollouts.flatMap((r) => [r.baseline_version_id, r.candidate_version_id]),
    ].filter((id) => !this.versions.has(id));
    if (wanted.length > 0) await this.readVersions([...new Set(wanted)]);
    const present = new Set(existing.map((e) => e.name));
    const result = new Map<string, RoutingSnapshot>();
    for (const name of names) {
      const label = labels.find((l) => l.prompt_name === name);
      const r = rollouts.find((x) => x.name === name);
      const state: RoutingState = {
        name,
        exists: present.has(name),
        production: label ? (this.versions.get(label.prompt_version_id) ?? null) : null,
        rollout: r
          ? {
              id: r.id,
              weight: r.weight,
              baseline: this.versions.get(r.baseline_version_id)!,
              candidate: this.versions.get(r.candidate_version_id)!,
            }
          : null,
      };
      result.set(name, { ...state, answers: prepareAnswers(state), readAt });
    }
    return result;
  }

  private async readVersions(ids: string[]): Promise<void> {
    const rows = await servedVersionRows(this.db, ids);
    for (const row of rows)
      this.versions.set(row.id, {
        id: row.id,
        name: row.name,
        version: row.version,
        type: row.type,
        prompt: PromptBody.parse(row.type === 'chat' ? row.messages : row.text),
        config: PromptConfig.parse(row.config),
      });
  }
}
