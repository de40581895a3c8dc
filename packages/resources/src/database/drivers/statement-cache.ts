/** Counters of a statement cache: `prepared` counts real preparations (misses), `hits` reuses. */
export interface StatementCacheStats {
  readonly size: number;
  readonly capacity: number;
  readonly prepared: number;
  readonly hits: number;
  readonly evicted: number;
}

/**
 * A bounded LRU of prepared statements by SQL text. A Map keeps insertion order, so the first key is the
 * least recently used one: a hit re-inserts its entry, a miss past capacity drops the first.
 */
export class StatementCache<S> {
  private readonly entries = new Map<string, S>();
  private prepared = 0;
  private hits = 0;
  private evicted = 0;

  constructor(
    readonly capacity: number,
    private readonly onEvict?: (statement: S, sql: string) => void,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`statement cache capacity must be a positive integer, got ${capacity}`);
  }

  get(sql: string, prepare: (sql: string) => S): S {
    const cached = this.entries.get(sql);
    if (cached !== undefined) {
      this.hits++;
      // Move it to the back (most recently used); a single entry is already there.
      if (this.entries.size > 1) {
        this.entries.delete(sql);
        this.entries.set(sql, cached);
      }
      return cached;
    }
    const statement = prepare(sql);
    this.prepared++;
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) {
        const dropped = this.entries.get(oldest.value) as S;
        this.entries.delete(oldest.value);
        this.evicted++;
        this.onEvict?.(dropped, oldest.value);
      }
    }
    this.entries.set(sql, statement);
    return statement;
  }

  /** Forgets every statement (their connection closed). */
  clear(): void {
    this.entries.clear();
  }

  stats(): StatementCacheStats {
    return {
      size: this.entries.size,
      capacity: this.capacity,
      prepared: this.prepared,
      hits: this.hits,
      evicted: this.evicted,
    };
  }
}
