import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { StorageError } from '@fsm/core';
import type { GroupWriter, WriteRows } from '../sql/write-rows.js';
import { ROLE, type WriterReply, type WriterRequest, type WriterThreadData } from './sqlite-write.js';

/**
 * Commits the step log's groups on a thread of its own, with its own connection to the same WAL file:
 * the statements and the commit (about a fifth of a durable run's CPU) overlap with the engine
 * instead of stopping it. Rows are serialized before they are sent, so only strings and numbers cross.
 * The thread starts with the first write and keeps the process alive only while a write is pending.
 */
export class SqliteWriterThread implements GroupWriter {
  readonly concurrent = true;
  private worker: Worker | undefined;
  private readonly pending = new Map<number, { resolve: () => void; reject: (error: unknown) => void }>();
  private nextId = 0;
  private broken: StorageError | undefined;

  constructor(
    private readonly filename: string,
    private readonly pragmas: string[],
  ) {}

  write(rows: WriteRows[]): Promise<void> {
    if (this.broken) return Promise.reject(this.broken);
    const worker = this.start();
    const id = ++this.nextId;
    return new Promise<void>((resolve, reject) => {
      if (this.pending.size === 0) worker.ref();
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, rows } satisfies WriterRequest);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.ref();
    worker.postMessage({ close: true } satisfies WriterRequest);
    await exited;
    this.fail(new StorageError('sqlite', 'commit', 'the store was closed before the write committed'));
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const data: WriterThreadData = {
      role: ROLE,
      filename: this.filename,
      pragmas: this.pragmas,
      driver: createRequire(import.meta.url).resolve('better-sqlite3'),
    };
    // Under a TypeScript test runner this module is the .ts source; Node strips the types of the sibling.
    const source = import.meta.url.endsWith('.ts') ? './sqlite-write.ts' : './sqlite-write.js';
    const worker = new Worker(new URL(source, import.meta.url), { workerData: data });
    worker.unref();
    worker.on('message', (reply: WriterReply) => this.settle(reply));
    worker.on('error', (error) => {
      this.broken = new StorageError('sqlite', 'commit', `the writer thread failed: ${error.message}`, {
        cause: error,
      });
      this.fail(this.broken);
    });
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.broken ??= new StorageError('sqlite', 'commit', `the writer thread exited (code ${code})`);
      this.fail(this.broken);
    });
    this.worker = worker;
    return worker;
  }

  private settle(reply: WriterReply): void {
    const waiting = this.pending.get(reply.id);
    if (!waiting) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker?.unref();
    if (!reply.error) {
      waiting.resolve();
      return;
    }
    const cause = Object.assign(
      new Error(reply.error.message),
      reply.error.code ? { code: reply.error.code } : {},
    );
    waiting.reject(cause);
  }

  private fail(error: StorageError): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const w of waiting) w.reject(error);
  }
}
