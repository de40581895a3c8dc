/**
 * Group commit: writes submitted by concurrent records in the same tick go to the store in one
 * transaction; each caller's promise resolves once the transaction holding its write committed.
 * At most `maxInFlight` transactions run at a time; what arrives meanwhile waits for the next one.
 * More than one pays off where a commit waits on a server or another thread (PostgreSQL, the SQLite
 * writer thread): the next group forms and goes while the previous one commits. Groups in flight
 * never hold two writes of one record (a record's next write waits for its previous one). When a
 * group fails, its writes are retried one by one, so one bad write fails alone.
 *
 * `prepare` turns a submitted write into what `commit` takes (rows), when its group is flushed: the
 * rows live only as long as the transaction (young garbage, never promoted by waiting in the queue),
 * and a write that cannot be prepared fails alone.
 */
export class GroupCommit<Op, Row = Op> {
  private queue: Array<{ op: Op; resolve: () => void; reject: (error: unknown) => void }> = [];
  private scheduled = false;
  private readonly running = new Set<Promise<void>>();
  private readonly commit: (rows: Row[]) => Promise<void> | void;
  private readonly prepare: (op: Op) => Row;
  private readonly maxGroup: number;
  private readonly maxInFlight: number;

  constructor(
    commit: (rows: Row[]) => Promise<void> | void,
    options: { prepare?: (op: Op) => Row; maxGroup?: number; maxInFlight?: number } = {},
  ) {
    this.commit = commit;
    this.prepare = options.prepare ?? ((op) => op as unknown as Row);
    this.maxGroup = options.maxGroup ?? 512;
    this.maxInFlight = options.maxInFlight ?? 1;
  }

  submit(op: Op): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ op, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves when every write submitted so far has been committed (or failed). */
  async drain(): Promise<void> {
    while (this.running.size > 0 || this.scheduled || this.queue.length > 0) {
      if (this.running.size > 0) await Promise.all(this.running);
      else await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private schedule(): void {
    if (this.scheduled || this.running.size >= this.maxInFlight) return;
    this.scheduled = true;
    // setImmediate, not a microtask: every record whose previous write just resolved joins this group.
    setImmediate(() => {
      this.scheduled = false;
      const flushing: Promise<void> = this.flush().finally(() => {
        this.running.delete(flushing);
        if (this.queue.length > 0) this.schedule();
      });
      this.running.add(flushing);
      // What did not fit in this group goes now too when a slot is free, not after this group commits.
      if (this.queue.length > 0) this.schedule();
    });
  }

  private async flush(): Promise<void> {
    const waiting = this.queue.splice(0, this.maxGroup);
    const group: typeof waiting = [];
    const rows: Row[] = [];
    for (const g of waiting) {
      try {
        rows.push(this.prepare(g.op));
        group.push(g);
      } catch (error) {
        g.reject(error);
      }
    }
    if (group.length === 0) return;
    try {
      await this.commit(rows);
      for (const g of group) g.resolve();
    } catch (error) {
      if (group.length === 1) {
        (group[0] as (typeof group)[number]).reject(error);
        return;
      }
      for (let i = 0; i < group.length; i++) {
        const g = group[i] as (typeof group)[number];
        try {
          await this.commit([rows[i] as Row]);
          g.resolve();
        } catch (single) {
          g.reject(single);
        }
      }
    }
  }
}
