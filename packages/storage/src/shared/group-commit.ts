/**
 * Group commit: writes submitted by concurrent records in the same tick go to the store in one
 * transaction; each caller's promise resolves once the transaction holding its write committed.
 * One transaction runs at a time; what arrives meanwhile waits for the next one. When a group fails,
 * its writes are retried one by one, so one bad write fails alone.
 */
export class GroupCommit<Op> {
  private queue: Array<{ op: Op; resolve: () => void; reject: (error: unknown) => void }> = [];
  private scheduled = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly commit: (ops: Op[]) => Promise<void> | void,
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
    const group = this.queue.splice(0, this.maxGroup);
    if (group.length === 0) return;
    try {
      await this.commit(group.map((g) => g.op));
      for (const g of group) g.resolve();
    } catch (error) {
      if (group.length === 1) {
        (group[0] as (typeof group)[number]).reject(error);
        return;
      }
      for (const g of group) {
        try {
          await this.commit([g.op]);
          g.resolve();
        } catch (single) {
          g.reject(single);
        }
      }
    }
  }
}
