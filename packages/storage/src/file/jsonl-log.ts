import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { StorageError } from '@fsm/core';

interface Entry {
  offset: number;
  length: number;
}

type LogLine = { op: 'put'; key: string; value: unknown } | { op: 'del'; key: string };

export interface JsonlLogOptions {
  /** fsync after every write: survives power loss, not only a process crash (default false). */
  fsync?: boolean;
  /** Called for every live value found while opening, so the owner can index it. */
  onReplay?: (key: string, value: unknown) => void;
}

/**
 * An append-only JSONL key/value log: a put or delete is one line written with one `write()`, so a
 * crash leaves at most a torn last line, which the next open cuts off. Values are read back by
 * offset, so only keys and offsets stay in memory. `compact()` rewrites live lines to a temp file and
 * renames it over the log.
 */
export class JsonlLog {
  private readonly index = new Map<string, Entry>();
  private size = 0;
  private liveBytes = 0;
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly path: string,
    private handle: FileHandle,
    private readonly fsync: boolean,
  ) {}

  static async open(path: string, options: JsonlLogOptions = {}): Promise<JsonlLog> {
    const handle = await open(path, 'a+');
    const log = new JsonlLog(path, handle, options.fsync ?? false);
    try {
      await log.replay(options.onReplay);
    } catch (error) {
      await handle.close();
      throw error;
    }
    return log;
  }

  get keys(): IterableIterator<string> {
    return this.index.keys();
  }

  has(key: string): boolean {
    return this.index.has(key);
  }

  async get(key: string): Promise<unknown> {
    const entry = this.index.get(key);
    if (!entry) return undefined;
    const buffer = Buffer.alloc(entry.length);
    await this.handle.read(buffer, 0, entry.length, entry.offset);
    return (JSON.parse(buffer.toString('utf8')) as { value: unknown }).value;
  }

  put(key: string, value: unknown): Promise<void> {
    return this.append({ op: 'put', key, value });
  }

  async delete(key: string): Promise<boolean> {
    if (!this.index.has(key)) return false;
    await this.append({ op: 'del', key });
    return true;
  }

  /** Rewrites the log with live entries only when at least half of it is garbage. */
  async compactIfWasteful(minBytes = 1 << 20): Promise<void> {
    if (this.size >= minBytes && this.liveBytes * 2 < this.size) await this.compact();
  }

  compact(): Promise<void> {
    return this.serialize(async () => {
      const temp = `${this.path}.compact-${process.pid}`;
      const out = await open(temp, 'w');
      const moved = new Map<string, Entry>();
      let offset = 0;
      try {
        for (const [key, entry] of this.index) {
          const buffer = Buffer.alloc(entry.length + 1);
          await this.handle.read(buffer, 0, entry.length, entry.offset);
          buffer[entry.length] = 0x0a;
          await out.write(buffer);
          moved.set(key, { offset, length: entry.length });
          offset += buffer.length;
        }
        await out.sync();
      } finally {
        await out.close();
      }
      await rename(temp, this.path);
      await this.handle.close();
      this.handle = await open(this.path, 'a+');
      this.index.clear();
      for (const [key, entry] of moved) this.index.set(key, entry);
      this.size = offset;
      this.liveBytes = offset;
    });
  }

  async close(): Promise<void> {
    await this.tail;
    await this.handle.close();
  }

  /** Removes the log file (used by tests and `destroy`). */
  static async remove(path: string): Promise<void> {
    await rm(path, { force: true });
  }

  private append(line: LogLine): Promise<void> {
    return this.serialize(async () => {
      const text = `${JSON.stringify(line)}\n`;
      const bytes = Buffer.from(text, 'utf8');
      await this.handle.write(bytes, 0, bytes.length, null);
      if (this.fsync) await this.handle.datasync();
      this.apply(line.op, line.key, this.size, bytes.length - 1);
      this.size += bytes.length;
    });
  }

  private apply(op: 'put' | 'del', key: string, offset: number, length: number): void {
    const previous = this.index.get(key);
    if (previous) this.liveBytes -= previous.length + 1;
    if (op === 'put') {
      this.index.set(key, { offset, length });
      this.liveBytes += length + 1;
    } else {
      this.index.delete(key);
    }
  }

  /** One write at a time, in call order; a failed write does not block the next. */
  private serialize(work: () => Promise<void>): Promise<void> {
    const next = this.tail.then(work, work);
    this.tail = next.catch((error: unknown) => error);
    return next;
  }

  private async replay(onReplay: JsonlLogOptions['onReplay']): Promise<void> {
    const { size } = await this.handle.stat();
    const content = Buffer.alloc(size);
    if (size > 0) await this.handle.read(content, 0, size, 0);
    let offset = 0;
    let lineNumber = 0;
    const values = new Map<string, unknown>();
    while (offset < size) {
      const end = content.indexOf(0x0a, offset);
      lineNumber++;
      if (end === -1) {
        // A torn last line: the process died mid-write. Cut it off so the next append starts clean.
        await this.handle.truncate(offset);
        break;
      }
      const raw = content.subarray(offset, end).toString('utf8');
      let line: LogLine;
      try {
        line = JSON.parse(raw) as LogLine;
      } catch (error) {
        if (end === size - 1) {
          await this.handle.truncate(offset);
          break;
        }
        throw new StorageError('file', 'open', `${this.path} line ${lineNumber} is corrupt`, {
          cause: error,
        });
      }
      this.apply(line.op, line.key, offset, end - offset);
      if (line.op === 'put') values.set(line.key, line.value);
      else values.delete(line.key);
      offset = end + 1;
    }
    this.size = offset;
    if (onReplay) for (const [key, value] of values) onReplay(key, value);
  }
}
