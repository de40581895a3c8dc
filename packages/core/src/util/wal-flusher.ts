import { closeSync, fdatasync, openSync } from 'node:fs';
import type { FsmError } from '../errors/fsm-error.js';

/** Makes the error a failed flush or open is reported with (a `StorageError`, a `ResourceError`, …). */
export type FlushErrorFactory = (message: string, cause: unknown) => FsmError;

export interface WalFlusherOptions {
  /** At most one flush starts per this many ms (default 100: ~1–2 MB of WAL on bench W9). */
  intervalMs?: number;
  /** `fs.fdatasync` unless a test passes its own. */
  sync?: (fd: number, done: (error: NodeJS.ErrnoException | null) => void) => void;
}

/**
 * Writes a SQLite WAL's dirty pages to disk on libuv's thread pool while the run goes on. A checkpoint first
 * fsyncs the WAL on the connection's thread — the event loop's — and with the OS holding megabytes of it
 * unwritten that stalled the whole run (bench W9 on disk, 100 k durable records: 0.72 s of SQLite's WAL
 * fsyncs, 0.03 s with this). It only adds syncs: SQLite still syncs what it must itself. Used by the SQLite
 * history store (@fsm/storage) and the SQLite database resource's write-behind (@fsm/resources).
 *
 * A failed flush means the disk lost writes; from then on every write fails with that error (and so does
 * `close()`), as SQLite's own next sync would.
 */
export class WalFlusher {
  private fd: number | undefined;
  private flushing: Promise<void> | undefined;
  private lastStart = Number.NEGATIVE_INFINITY;
  private failure: FsmError | undefined;
  private closed = false;
  private readonly intervalMs: number;
  private readonly sync: NonNullable<WalFlusherOptions['sync']>;

  constructor(
    private readonly walPath: string,
    private readonly fail: FlushErrorFactory,
    options: WalFlusherOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 100;
    this.sync = options.sync ?? fdatasync;
  }

  /** Throws the failure of an earlier flush: call before a write, so the write fails with it. */
  check(): void {
    if (this.failure) throw this.failure;
  }

  /** After a commit: starts a flush unless one is running or the last one started under `intervalMs` ago. */
  wrote(): void {
    if (this.closed || this.flushing || this.failure) return;
    const now = performance.now();
    if (now - this.lastStart < this.intervalMs) return;
    this.lastStart = now;
    const fd = this.open();
    if (fd === undefined) return;
    this.flushing = new Promise<void>((resolve) => {
      this.sync(fd, (error) => {
        if (error) {
          this.failure = this.fail(`cannot write ${this.walPath} to disk: ${error.message}`, error);
        }
        this.flushing = undefined;
        resolve();
      });
    });
  }

  /** Waits for the flush in progress and closes the file; throws what a flush failed with. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flushing;
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) closeSync(fd);
    if (this.failure) throw this.failure;
  }

  /**
   * The WAL, opened once; undefined while SQLite has not made it yet (tried again at the next flush). Any
   * other error is kept for the next write: the commit that called this has already happened.
   */
  private open(): number | undefined {
    if (this.fd !== undefined) return this.fd;
    try {
      this.fd = openSync(this.walPath, 'r');
      return this.fd;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.failure = this.fail(`cannot open ${this.walPath}: ${(error as Error).message}`, error);
      }
      return undefined;
    }
  }
}
