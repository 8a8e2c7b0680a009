/**
 * A per-process cache of database reads, kept fresh in the background: what resolve's
 * routing snapshots and coaching recall's indexes share. Each key in use (a prompt name, an
 * agent) has an entry that requests read without touching the database; only a key's first
 * request waits for a read. One timer refreshes every key in use, at most one round at a
 * time (single flight), and installs the new entries when the round finishes; requests keep
 * the previous ones meanwhile. A key not asked for during `idleMs` leaves the refresh set, and
 * with no key left the timer stops. When the database is unreachable the last entries keep
 * serving, and `onError` hears about it. Staleness bound: a change committed at time t is
 * served by every process from t + refreshMs + one round on, and at once by the process that
 * made it (`invalidate`).
 */
export interface RefreshedCacheOptions {
  /** How often the keys in use are refreshed; the staleness bound is this plus one read. */
  refreshMs?: number;
  /** A key not asked for this long is dropped from the refresh set. */
  idleMs?: number;
  now?: () => number;
  onError?: (error: unknown) => void;
}

export abstract class RefreshedCache<V extends { readAt: number }> {
  readonly refreshMs: number;
  protected readonly now: () => number;
  private readonly idleMs: number;
  private readonly onError: (error: unknown) => void;
  private readonly entries = new Map<string, V>();
  private readonly lastUsed = new Map<string, number>();
  private readonly firstLoads = new Map<string, Promise<V>>();
  private refreshing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;

  protected constructor(
    options: RefreshedCacheOptions,
    defaults: { refreshMs: number; failure: (detail: string) => string },
  ) {
    this.refreshMs = options.refreshMs ?? defaults.refreshMs;
    if (!(this.refreshMs > 0)) throw new Error(`refreshMs must be positive, got ${this.refreshMs}.`);
    this.idleMs = options.idleMs ?? 60_000;
    this.now = options.now ?? (() => performance.now());
    // While the database is away this fires every refresh: one line, not a stack, each time.
    this.onError =
      options.onError ?? ((e) => console.error(defaults.failure(e instanceof Error ? e.message : String(e))));
  }

  /** Reads these keys' entries now, whatever changed. */
  protected abstract read(keys: string[]): Promise<Map<string, V>>;

  /** A refresh round's read: by default every key again; a cache that can tell which changed reads only those. */
  protected readChanged(keys: string[]): Promise<Map<string, V>> {
    return this.read(keys);
  }

  /** The key's current entry; only its first request waits for the database. */
  async get(key: string): Promise<V> {
    const entry = this.entries.get(key);
    this.lastUsed.set(key, this.now());
    if (entry) return entry;
    let pending = this.firstLoads.get(key);
    if (!pending) {
      pending = this.read([key])
        .then((loaded) => {
          const value = loaded.get(key)!;
          this.entries.set(key, value);
          this.start();
          return value;
        })
        .finally(() => this.firstLoads.delete(key));
      this.firstLoads.set(key, pending);
    }
    return pending;
  }

  /** Re-reads `key` now (after a write in this process), so this process serves its own writes. */
  async invalidate(key: string): Promise<void> {
    if (!this.entries.has(key)) return;
    this.install(await this.read([key]));
  }

  /** One refresh round of every key in use; concurrent callers share the round in flight. */
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

  /** The entry in place for `key`, if any (no read, no use recorded). */
  protected current(key: string): V | undefined {
    return this.entries.get(key);
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
    for (const [key, used] of this.lastUsed)
      if (used < cutoff) {
        this.lastUsed.delete(key);
        this.entries.delete(key);
      }
    const keys = [...this.entries.keys()];
    if (keys.length === 0) return this.stop();
    this.install(await this.readChanged(keys));
  }

  /** A read that started before the entry in place (an invalidation raced it) is dropped. */
  private install(loaded: Map<string, V>): void {
    for (const [key, value] of loaded) {
      const current = this.entries.get(key);
      if (current && current.readAt <= value.readAt) this.entries.set(key, value);
    }
  }
}
