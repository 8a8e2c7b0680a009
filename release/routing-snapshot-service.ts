import type { Db } from '../db/connection.js';
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

export interface RoutingSnapshotOptions {
  /** How often the names in use are re-read; the staleness bound is this plus one read. */
  refreshMs?: number;
  /** A name not resolved for this long is dropped from the refresh set. */
  idleMs?: number;
  now?: () => number;
  onError?: (error: unknown) => void;
}

export const DEFAULT_ROUTING_REFRESH_MS = 500;

/**
 * The per-process routing cache behind resolve. Each prompt name in use has a snapshot
 * (production version, running rollout and its weight, candidate, prompt bodies, the two
 * answers serialised); requests read it without touching the database. One timer re-reads
 * every name in use in a single round of three small queries, at most one round at a time
 * (single flight), and swaps the snapshots when the round finishes; requests keep getting
 * the previous ones meanwhile. Staleness bound: a change committed at time t is served by
 * every API process from t + refreshMs + one refresh round (a few ms) on. When the database
 * is unreachable the last snapshots keep serving, and `onError` hears about it.
 */
export class RoutingSnapshots {
  readonly refreshMs: number;
  private readonly idleMs: number;
  private readonly now: () => number;
  private readonly onError: (error: unknown) => void;
  private readonly snapshots = new Map<string, RoutingSnapshot>();
  private readonly lastUsed = new Map<string, number>();
  private readonly firstLoads = new Map<string, Promise<RoutingSnapshot>>();
  /** Versions are immutable: their bodies are read once per process. */
  private readonly versions = new Map<string, ServedVersion>();
  private refreshing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Db,
    options: RoutingSnapshotOptions = {},
  ) {
    this.refreshMs = options.refreshMs ?? DEFAULT_ROUTING_REFRESH_MS;
    if (!(this.refreshMs > 0)) throw new Error(`refreshMs must be positive, got ${this.refreshMs}.`);
    this.idleMs = options.idleMs ?? 60_000;
    this.now = options.now ?? (() => performance.now());
    // While the database is away this fires every refresh: one line, not a stack, each time.
    this.onError =
      options.onError ??
      ((e) =>
        console.error(
          `flywheel resolve: routing refresh failed (${e instanceof Error ? e.message : String(e)}); serving the last snapshots`,
        ));
  }

  /** The current snapshot of `name`; only a name's first request waits for the database. */
  async get(name: string): Promise<RoutingSnapshot> {
    const snapshot = this.snapshots.get(name);
    this.lastUsed.set(name, this.now());
    if (snapshot) return snapshot;
    let pending = this.firstLoads.get(name);
    if (!pending) {
      pending = this.load([name])
        .then((loaded) => {
          const s = loaded.get(name)!;
          this.snapshots.set(name, s);
          this.start();
          return s;
        })
        .finally(() => this.firstLoads.delete(name));
      this.firstLoads.set(name, pending);
    }
    return pending;
  }

  /** Re-reads `name` now (after a write in this process), so this process reads its own writes. */
  async invalidate(name: string): Promise<void> {
    if (!this.snapshots.has(name)) return;
    this.install(await this.load([name]));
  }

  /** One refresh round of every name in use; concurrent callers share the round in flight. */
  refresh(): Promise<void> {
    this.refreshing ??= this.refreshRound().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.refresh().catch(this.onError);
    }, this.refreshMs);
    // The cache must never keep a process alive.
    this.timer.unref();
  }

  private async refreshRound(): Promise<void> {
    const cutoff = this.now() - this.idleMs;
    for (const [name, used] of this.lastUsed)
      if (used < cutoff) {
        this.lastUsed.delete(name);
        this.snapshots.delete(name);
      }
    const names = [...this.snapshots.keys()];
    if (names.length === 0) return this.stop();
    this.install(await this.load(names));
  }

  /** A read that started before the snapshot in place (an invalidation raced it) is dropped. */
  private install(loaded: Map<string, RoutingSnapshot>): void {
    for (const [name, s] of loaded) {
      const current = this.snapshots.get(name);
      if (current && current.readAt <= s.readAt) this.snapshots.set(name, s);
    }
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
