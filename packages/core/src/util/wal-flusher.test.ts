import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StorageError } from '../errors/errors.js';
import { WalFlusher } from './wal-flusher.js';

const asStorageError = (message: string, cause: unknown) =>
  new StorageError('sqlite', 'flush', message, { cause });

const dir = mkdtempSync(join(tmpdir(), 'fsm-wal-flusher-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** A WAL file and a sync that records its calls and finishes only when told. */
function setup() {
  const walPath = join(dir, `db-${++n}.db-wal`);
  writeFileSync(walPath, 'frames');
  const calls: Array<(error: NodeJS.ErrnoException | null) => void> = [];
  const sync = (_fd: number, done: (error: NodeJS.ErrnoException | null) => void) => {
    calls.push(done);
  };
  return { walPath, calls, sync };
}

describe('WalFlusher', () => {
  it('flushes after a write, one flush at a time, at most once per interval', async () => {
    const { walPath, calls, sync } = setup();
    const flusher = new WalFlusher(walPath, asStorageError, { sync, intervalMs: 0 });
    flusher.wrote();
    flusher.wrote();
    expect(calls).toHaveLength(1);
    calls[0]?.(null);
    await Promise.resolve();
    flusher.wrote();
    expect(calls).toHaveLength(2);
    calls[1]?.(null);
    await flusher.close();

    const spaced = setup();
    const slow = new WalFlusher(spaced.walPath, asStorageError, { sync: spaced.sync, intervalMs: 60_000 });
    slow.wrote();
    spaced.calls[0]?.(null);
    await Promise.resolve();
    slow.wrote();
    expect(spaced.calls).toHaveLength(1);
    await slow.close();
  });

  it('really syncs the file with fs.fdatasync by default', async () => {
    const { walPath } = setup();
    const flusher = new WalFlusher(walPath, asStorageError, { intervalMs: 0 });
    flusher.wrote();
    await flusher.close();
  });

  it('close waits for the flush in progress', async () => {
    const { walPath, calls, sync } = setup();
    const flusher = new WalFlusher(walPath, asStorageError, { sync, intervalMs: 0 });
    flusher.wrote();
    let closed = false;
    const closing = flusher.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);
    calls[0]?.(null);
    await closing;
    expect(closed).toBe(true);
    flusher.wrote();
    expect(calls).toHaveLength(1);
  });

  it('a failed flush fails the next write and close with a StorageError naming the file', async () => {
    const { walPath, calls, sync } = setup();
    const flusher = new WalFlusher(walPath, asStorageError, { sync, intervalMs: 0 });
    flusher.check();
    flusher.wrote();
    calls[0]?.(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }));
    await Promise.resolve();
    expect(() => flusher.check()).toThrow(expect.objectContaining({ code: 'STORAGE_FAILED' }));
    expect(() => flusher.check()).toThrow(walPath);
    await expect(flusher.close()).rejects.toMatchObject({
      code: 'STORAGE_FAILED',
      message: expect.stringContaining('EIO'),
    });
  });

  it('waits for SQLite to make the WAL: no file yet is no flush and no error', async () => {
    const walPath = join(dir, 'not-yet.db-wal');
    const calls: unknown[] = [];
    const flusher = new WalFlusher(walPath, asStorageError, {
      sync: (_fd, done) => {
        calls.push(done);
        done(null);
      },
      intervalMs: 0,
    });
    flusher.wrote();
    expect(calls).toHaveLength(0);
    writeFileSync(walPath, 'frames');
    flusher.wrote();
    expect(calls).toHaveLength(1);
    await flusher.close();
  });

  it('a WAL that cannot be opened (not a missing file) fails the next write, not the one that committed', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a folder');
    const walPath = join(file, 'db-wal');
    const flusher = new WalFlusher(walPath, asStorageError, { intervalMs: 0 });
    expect(() => flusher.wrote()).not.toThrow();
    expect(() => flusher.check()).toThrow(expect.objectContaining({ code: 'STORAGE_FAILED' }));
    await expect(flusher.close()).rejects.toThrow('ENOTDIR');
  });
});
