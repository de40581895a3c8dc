import { IoError, onAbort, ResourceError, runCleanups, WalFlusher } from '@fsm/core';
import { CompiledQuery, type Kysely } from 'kysely';
import type { AnyDatabase, Dialect } from './database-provider.js';

type Row = Record<string, unknown>;

/** How a row is written: its table, its columns (in order) and, for an upsert, the key columns. */
export interface RowWrite {
  readonly kind: 'insert' | 'upsert';
  readonly table: string;
  readonly columns: readonly string[];
  /** Upsert key columns (empty for an insert). */
  readonly keys: readonly string[];
}

export interface WriteBehindSettings {
  /** Rows per transaction at most (default 500). */
  batchSize: number;
  /** How long the first queued row waits for others before its batch is sent (default 5 ms). */
  maxDelayMs: number;
}

/** What a batcher did: transactions (batches, including retried halves), rows committed, rows failed. */
export interface WriteBehindStats {
  batches: number;
  rows: number;
  failed: number;
  /** Batches that failed and were split to find the failing rows. */
  splits: number;
}

/** The part of a better-sqlite3 `Database` the SQLite writer uses. */
export interface SqliteConnection {
  prepare(sql: string): { run(parameters: readonly unknown[]): unknown };
  transaction(fn: SqliteBatch): SqliteBatch;
  /** The database file (its WAL is `<name>-wal`), and whether it is in memory (no file). */
  readonly name?: string;
  readonly memory?: boolean;
}

/**
 * The better-sqlite3 connection behind each SQLite Kysely instance the provider opened. better-sqlite3 is
 * synchronous: the writer runs a whole batch as one transaction function on it — no promise, no kysely
 * executor round per row — once the lane's SQL text is known (built by kysely, see `buildWrite`).
 */
export const sqliteConnections = new WeakMap<Kysely<AnyDatabase>, SqliteConnection>();

type SqliteBatch = (batch: readonly Pending[], from: number, to: number) => void;

/** Lanes (statement shapes) kept per resource before idle ones are forgotten. */
const MAX_LANES = 1024;

export const DEFAULT_WRITE_BEHIND: WriteBehindSettings = { batchSize: 500, maxDelayMs: 5 };

export interface WriteBehindOptions extends WriteBehindSettings {
  /** The resource name, for errors. */
  name: string;
  dialect: Dialect;
  /** Opens the writer's own connection (on first use). */
  open: () => Promise<Kysely<AnyDatabase>>;
  /**
   * How many handles of the resource exist. A record waits for its row while holding a handle, so when
   * a lane holds that many rows nobody can add one: the batch goes at once instead of after a turn.
   */
  handles?: () => number;
}

/** One queued row: its values in column order, and the promise of the record that wrote it. */
class Pending {
  sent = false;
  /** Unregisters the abort callback (the signal's shared hub: no listener per row). */
  off: (() => void) | undefined;
  constructor(
    readonly lane: Lane,
    readonly values: unknown[],
    readonly resolve: () => void,
    readonly reject: (error: unknown) => void,
    readonly signal: AbortSignal | undefined,
  ) {}

  /** The record was aborted: a row not yet sent leaves its batch. */
  aborted(): void {
    if (this.sent) return;
    const queue = this.lane.queue;
    const index = queue.indexOf(this);
    if (index >= 0) queue.splice(index, 1);
    this.sent = true;
    this.reject(this.signal?.reason);
  }

  detach(): void {
    this.sent = true;
    this.off?.();
  }
}

/** The rows of one statement shape: one prepared statement, one queue, its own batch settings. */
export class Lane {
  readonly queue: Pending[] = [];
  /** The INSERT's SQL text by its number of rows. */
  readonly sql = new Map<number, string>();
  /** Kysely did not bind the values one per column in order: compile each statement instead. */
  perRow = false;
  /** The lane's one-row statement as a batch transaction on a SQLite connection, made on first use. */
  sqlite: { connection: SqliteConnection; run: SqliteBatch } | undefined;
  checkScheduled = false;
  flushQueued = false;
  arrivals = 0;
  firstAt = 0;
  readonly check: () => void;

  constructor(
    readonly write: RowWrite,
    readonly settings: WriteBehindSettings,
    owner: WriteBehind,
  ) {
    this.check = () => owner.check(this);
  }
}

/**
 * Write-behind batching (group commit) of single-row writes from concurrent records, on a connection of
 * its own. A row waits in its lane until the lane holds `batchSize` rows (or one row per handle of the
 * resource: every holder is waiting), or a whole event-loop turn passed with no new row, or `maxDelayMs`
 * passed; then the lane's rows are written in one transaction
 * with one prepared statement, in arrival order (so the last upsert of a key wins). Each `write` resolves
 * when the transaction holding its row committed. A failed batch is split in halves and retried, down to
 * single rows, so only the records whose rows fail get an error, each its own. `close` writes what is
 * queued before the connection closes.
 */
export class WriteBehind {
  private readonly lanes = new Map<string, Lane>();
  private chain: Promise<void> = Promise.resolve();
  private database: Promise<Kysely<AnyDatabase>> | undefined;
  private closed = false;
  private readonly counters: WriteBehindStats = { batches: 0, rows: 0, failed: 0, splits: 0 };
  /** SQLite: the WAL of the writer's file, written to disk in the background after batches commit. */
  private flusher: WalFlusher | undefined;

  constructor(private readonly options: WriteBehindOptions) {}

  stats(): WriteBehindStats {
    return { ...this.counters };
  }

  /** The lane of a statement shape; callers with a fixed shape keep it and skip the lookup. */
  lane(write: RowWrite, settings?: Partial<WriteBehindSettings>): Lane {
    const batchSize = settings?.batchSize ?? this.options.batchSize;
    const maxDelayMs = settings?.maxDelayMs ?? this.options.maxDelayMs;
    const key = `${write.kind}\u0000${write.table}\u0000${write.columns.join('\u0001')}\u0000${write.keys.join('\u0001')}\u0000${batchSize}\u0000${maxDelayMs}`;
    let lane = this.lanes.get(key);
    if (!lane) {
      // Records without `fields` may bring ever new column sets: forget idle lanes past a bound (a
      // caller still holding one keeps using it; it is self-contained).
      if (this.lanes.size >= MAX_LANES) {
        for (const [k, idle] of this.lanes)
          if (idle.queue.length === 0 && !idle.flushQueued && !idle.checkScheduled) this.lanes.delete(k);
      }
      lane = new Lane(write, { batchSize, maxDelayMs }, this);
      this.lanes.set(key, lane);
    }
    return lane;
  }

  /** Queues `values` (one per column of the lane) and resolves once their transaction committed. */
  write(lane: Lane, values: unknown[], signal?: AbortSignal): Promise<void> {
    if (this.closed) {
      return Promise.reject(
        new ResourceError(
          'RESOURCE_UNAVAILABLE',
          this.options.name,
          `resource "${this.options.name}" is closed; cannot write to ${lane.write.table}`,
        ),
      );
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const pending = new Pending(lane, values, resolve, reject, signal);
      if (signal) pending.off = onAbort(signal, () => pending.aborted());
      lane.queue.push(pending);
      lane.arrivals++;
      const handles = this.options.handles?.() ?? 0;
      if (lane.queue.length >= lane.settings.batchSize || (handles > 0 && lane.queue.length >= handles))
        this.queueFlush(lane);
      else if (!lane.checkScheduled && !lane.flushQueued) {
        // Count the rows that come after this one: a lone row is sent after one quiet turn.
        lane.checkScheduled = true;
        lane.arrivals = 0;
        lane.firstAt = performance.now();
        setImmediate(lane.check);
      }
    });
  }

  /** @internal A turn passed: send the batch unless rows are still arriving and there is time left. */
  check(lane: Lane): void {
    lane.checkScheduled = false;
    if (lane.queue.length === 0 || lane.flushQueued) return;
    if (lane.arrivals > 0 && performance.now() - lane.firstAt < lane.settings.maxDelayMs) {
      lane.arrivals = 0;
      lane.checkScheduled = true;
      setImmediate(lane.check);
      return;
    }
    this.queueFlush(lane);
  }

  /** Writes everything queued, then closes the writer's connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const lane of this.lanes.values()) if (lane.queue.length > 0) this.queueFlush(lane);
    // A batch that finds more rows queued chains another: wait until no batch is left.
    for (let chain = this.chain; ; chain = this.chain) {
      await chain;
      if (chain === this.chain) break;
    }
    const database = this.database;
    this.database = undefined;
    // The flush in progress ends before the connection goes; both failures are reported.
    await runCleanups(`closing the write-behind of resource "${this.options.name}" failed`, [
      () => this.flusher?.close(),
      // A connection that failed to open was already reported to every row that waited for it: nothing to close.
      async () => {
        if (database) await (await database.catch(() => undefined))?.destroy();
      },
    ]);
  }

  /** Batches run one after another on the writer's connection; a batch takes its rows when it starts. */
  private queueFlush(lane: Lane): void {
    if (lane.flushQueued) return;
    lane.flushQueued = true;
    this.chain = this.chain.then(() => this.flush(lane));
  }

  private async flush(lane: Lane): Promise<void> {
    lane.flushQueued = false;
    const batch = lane.queue.splice(0, lane.settings.batchSize);
    for (const pending of batch) pending.detach();
    if (lane.queue.length > 0) {
      // More than a batch was queued, or rows came while this one waited: keep draining.
      if (lane.queue.length >= lane.settings.batchSize || this.closed) this.queueFlush(lane);
      else if (!lane.checkScheduled) {
        lane.checkScheduled = true;
        lane.firstAt = performance.now();
        lane.arrivals = 0;
        setImmediate(lane.check);
      }
    }
    if (batch.length === 0) return;
    try {
      await this.writeBatch(lane, batch, 0, batch.length);
    } catch (error) {
      // writeBatch settles every row itself; should it throw anyway, no record may wait forever (a
      // settled promise ignores the second call) and the chain must go on.
      for (const pending of batch) pending.reject(error);
    }
  }

  /** Writes rows [from, to) in one transaction; on failure, each half on its own. Never throws. */
  private async writeBatch(lane: Lane, batch: Pending[], from: number, to: number): Promise<void> {
    let db: Kysely<AnyDatabase>;
    try {
      db = await this.connection();
    } catch (error) {
      // No connection: no row can be written, and splitting would only try to connect again and again.
      this.counters.failed += to - from;
      for (let i = from; i < to; i++) (batch[i] as Pending).reject(error);
      return;
    }
    this.counters.batches++;
    try {
      const sqlite = this.options.dialect === 'sqlite' ? sqliteBatch(db, lane) : undefined;
      if (sqlite) {
        const flusher = this.walFlusher(db);
        flusher?.check();
        sqlite(batch, from, to);
        flusher?.wrote();
      } else if (to - from === 1) await this.execute(db, lane, batch, from, to);
      else if (this.options.dialect === 'sqlite') {
        // In-process: one cached statement run per row costs less than building a multi-row one.
        await db.transaction().execute(async (trx) => {
          for (let i = from; i < to; i++) await this.execute(trx, lane, batch, i, i + 1);
        });
      } else {
        // A server: every statement is a round trip, so rows go as multi-row VALUES; one statement
        // needs no explicit transaction.
        const ends = statementEnds(lane, batch, from, to);
        if (ends.length === 1) await this.execute(db, lane, batch, from, to);
        else {
          await db.transaction().execute(async (trx) => {
            let start = from;
            for (const end of ends) {
              await this.execute(trx, lane, batch, start, end);
              start = end;
            }
          });
        }
      }
    } catch (error) {
      if (to - from > 1) {
        this.counters.splits++;
        const middle = from + Math.ceil((to - from) / 2);
        await this.writeBatch(lane, batch, from, middle);
        await this.writeBatch(lane, batch, middle, to);
        return;
      }
      this.counters.failed++;
      (batch[from] as Pending).reject(this.rowError(lane, batch[from] as Pending, error));
      return;
    }
    this.counters.rows += to - from;
    for (let i = from; i < to; i++) (batch[i] as Pending).resolve();
  }

  /** One INSERT of rows [from, to): the lane's SQL for that many rows, compiled once, reused after. */
  private async execute(
    db: Kysely<AnyDatabase>,
    lane: Lane,
    batch: Pending[],
    from: number,
    to: number,
  ): Promise<void> {
    const count = to - from;
    const values =
      count === 1 ? (batch[from] as Pending).values : batch.slice(from, to).flatMap((p) => p.values);
    const sql = lane.perRow ? undefined : lane.sql.get(count);
    if (sql === undefined) {
      const rows = batch.slice(from, to).map((p) => p.values);
      const compiled = buildWrite(db, this.options.dialect, lane.write, rows).compile();
      if (!lane.perRow) {
        if (sameValues(compiled.parameters, values)) lane.sql.set(count, compiled.sql);
        else lane.perRow = true;
      }
      await db.executeQuery(compiled);
      return;
    }
    // The same SQL text for the same row count: the driver's statement cache (SQLite) or named
    // statements (PostgreSQL) prepare it once per connection.
    await db.executeQuery(CompiledQuery.raw(sql, values));
  }

  /** The flusher of the writer's SQLite file (made on its first batch); none for an in-memory database. */
  private walFlusher(db: Kysely<AnyDatabase>): WalFlusher | undefined {
    if (this.flusher) return this.flusher;
    const connection = sqliteConnections.get(db);
    if (!connection?.name || connection.memory !== false) return undefined;
    const name = this.options.name;
    this.flusher = new WalFlusher(
      `${connection.name}-wal`,
      (message, cause) =>
        new ResourceError('RESOURCE_UNAVAILABLE', name, `resource "${name}": ${message}`, { cause }),
    );
    return this.flusher;
  }

  private connection(): Promise<Kysely<AnyDatabase>> {
    if (!this.database) {
      const opening = this.options.open();
      this.database = opening;
      // A failed open is retried by the next batch.
      opening.catch(() => {
        if (this.database === opening) this.database = undefined;
      });
    }
    return this.database;
  }

  private rowError(lane: Lane, pending: Pending, error: unknown): IoError | ResourceError {
    const { write } = lane;
    const described =
      write.keys.length > 0
        ? ` (${write.keys.map((k) => `${k}=${String(pending.values[write.columns.indexOf(k)])}`).join(', ')})`
        : '';
    return new IoError(
      `resource "${this.options.name}": writing a row${described} to ${write.table} failed: ${(error as Error).message}`,
      { source: write.table, cause: error },
    );
  }
}

/** The lane's batch runner on `db`'s SQLite connection, or undefined until its one-row SQL is known. */
function sqliteBatch(db: Kysely<AnyDatabase>, lane: Lane): SqliteBatch | undefined {
  const connection = sqliteConnections.get(db);
  if (!connection || lane.perRow) return undefined;
  if (lane.sqlite?.connection === connection) return lane.sqlite.run;
  const sql = lane.sql.get(1);
  if (sql === undefined) return undefined;
  const statement = connection.prepare(sql);
  // One transaction: a failing row rolls the batch back and the caller splits it, as on the kysely path.
  const run = connection.transaction((batch: readonly Pending[], from: number, to: number) => {
    for (let i = from; i < to; i++) statement.run((batch[i] as Pending).values);
  });
  lane.sqlite = { connection, run };
  return run;
}

function sameValues(parameters: readonly unknown[], values: readonly unknown[]): boolean {
  if (parameters.length !== values.length) return false;
  for (let i = 0; i < values.length; i++) if (parameters[i] !== values[i]) return false;
  return true;
}

/**
 * The INSERT (or upsert) of some rows. Updated columns take the row's own values (`excluded.c`,
 * `values(c)`), so the values are bound once, one per column and row, and the SQL text depends only on
 * the number of rows.
 */
export function buildWrite(
  db: Kysely<AnyDatabase>,
  dialect: Dialect,
  write: RowWrite,
  rows: readonly (readonly unknown[])[],
) {
  // fromEntries defines own properties: a column named `__proto__` stays a column.
  const objects: Row[] = rows.map((values) =>
    Object.fromEntries(write.columns.map((c, i) => [c, values[i]])),
  );
  const insert = db.insertInto(write.table).values(objects);
  if (write.kind === 'insert') return insert;
  const keys = write.keys;
  const nonKey = write.columns.filter((c) => !keys.includes(c));
  if (dialect === 'mysql') {
    // Nothing to update: assigning a key to itself keeps the row and still reports real errors.
    const updated = nonKey.length > 0 ? nonKey : keys.slice(0, 1);
    return insert.onDuplicateKeyUpdate((eb) =>
      Object.fromEntries(updated.map((c) => [c, eb.fn('values', [eb.ref(c)])])),
    );
  }
  return insert.onConflict((oc) =>
    nonKey.length === 0
      ? oc.columns([...keys]).doNothing()
      : oc
          .columns([...keys])
          .doUpdateSet((eb) => Object.fromEntries(nonKey.map((c) => [c, eb.ref(`excluded.${c}`)]))),
  );
}

/** Bound parameters per statement, at most (PostgreSQL allows 65 535). */
const MAX_PARAMETERS = 30_000;

/**
 * Where each multi-row statement of rows [from, to) ends: at most MAX_PARAMETERS values, and a new
 * statement where a key repeats (one upsert statement may not touch a row twice on PostgreSQL; in
 * order, the later row wins).
 */
function statementEnds(lane: Lane, batch: Pending[], from: number, to: number): number[] {
  const { columns, keys } = lane.write;
  const perStatement = Math.max(1, Math.floor(MAX_PARAMETERS / Math.max(1, columns.length)));
  const keyIndexes = keys.map((k) => columns.indexOf(k));
  const ends: number[] = [];
  let start = from;
  let seen = new Set<string>();
  for (let i = from; i < to; i++) {
    const values = (batch[i] as Pending).values;
    const id =
      keyIndexes.length === 0
        ? undefined
        : keyIndexes.length === 1
          ? String(values[keyIndexes[0] as number])
          : JSON.stringify(keyIndexes.map((k) => values[k]));
    if (i - start === perStatement || (id !== undefined && seen.has(id))) {
      ends.push(i);
      start = i;
      seen = new Set();
    }
    if (id !== undefined) seen.add(id);
  }
  ends.push(to);
  return ends;
}
