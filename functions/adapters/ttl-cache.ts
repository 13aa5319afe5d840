/** What a cache holds, named so that a write to it can invalidate every cache of it in this process. */
export type CachedKind = 'tenant' | 'template';

// Kept on globalThis: the local runtime runs every handler in one process, and a module loaded twice (a test's
// fresh import) must still see the writes of the other copy.
const registryKey = Symbol.for('parley.ttl-cache.registry');
const globals = globalThis as Record<symbol, unknown>;
globals[registryKey] ??= new Map<CachedKind, Set<WeakRef<TtlCache<unknown>>>>();
const registry = globals[registryKey] as Map<CachedKind, Set<WeakRef<TtlCache<unknown>>>>;

/**
 * Drops what every cache of `kind` in this process holds for `key` (`undefined`: everything it holds). A write
 * through the API calls it, so the next read in this process (the local runtime: every handler) sees the write.
 * Other Lambda containers keep their copy until it expires (`PARLEY_CACHE_TTL_MS`, 60 s).
 */
export const invalidateCached = (kind: CachedKind, key?: string): void => {
  const caches = registry.get(kind);
  if (!caches) return;
  for (const ref of caches) {
    const cache = ref.deref();
    if (!cache) caches.delete(ref);
    else if (key === undefined) cache.clear();
    else cache.delete(key);
  }
};

/**
 * A small in-memory cache for a Lambda container's lifetime: tenants, templates. Entries expire after `ttlMs`, and
 * concurrent misses for one key share a single load. Given a `kind`, `invalidateCached` reaches it.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: Promise<V>; expiresAt: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxEntries = 1000,
    kind?: CachedKind,
  ) {
    if (kind !== undefined) {
      const caches = registry.get(kind) ?? new Set<WeakRef<TtlCache<unknown>>>();
      registry.set(kind, caches);
      caches.add(new WeakRef(this as TtlCache<unknown>));
    }
  }

  get(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > this.now()) return hit.value;
    const value = load();
    if (this.ttlMs <= 0) return value;
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { value, expiresAt: this.now() + this.ttlMs });
    // A failed load is not cached.
    value.catch(() => this.entries.delete(key));
    return value;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

/**
 * The latest value seen per key, for a Lambda container's lifetime: a bounded map whose entries expire after
 * `ttlMs` (what a send last saw of a customer's open prompts). Oldest entries go first when it is full.
 */
export class RecentValues<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxEntries = 1000,
  ) {}

  get(key: string): V | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (hit.expiresAt > this.now()) return hit.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { value, expiresAt: this.now() + this.ttlMs });
  }
}
