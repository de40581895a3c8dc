/**
 * Group commit: writes submitted by concurrent records in the same tick go to the store in one
 * transaction; each caller's promise resolves once the transaction holding its write committed.
 * One transaction runs at a time; what arrives meanwhile waits for the next one. When a group fails,
 * its writes are retried one by one, so one bad write fails alone.
 *
 * `prepare` turns a submitted write into what `commit` takes (rows), when its group is flushed: the
 * rows live only as long as the transaction (young garbage, never promoted by waiting in the queue),
 * and a write that cannot be prepared fails alone.
 */
export class GroupCommit<Op, Row = Op> {
  private queue: Array<{ op: Op; resolve: () => void; reject: (error: unknown) => void }> = [];
  private scheduled = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly commit: (rows: Row[]) => Promise<void> | void,
    private readonly prepare: (op: Op) => Row = (op) => op as unknown as Row,
    private readonly maxGroup = 512,
  ) {}

  submit(op: Op): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ op, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves when every write submitted so far has been committed (or failed). */
  async drain(): Promise<void> {
    while (this.running || this.scheduled || this.queue.length > 0) {
      if (this.running) await this.running;
      else await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    // setImmediate, not a microtask: every record whose previous write just resolved joins this group.
    setImmediate(() => {
      this.scheduled = false;
      this.running = this.flush().finally(() => {
        this.running = undefined;
        if (this.queue.length > 0) this.schedule();
      });
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
