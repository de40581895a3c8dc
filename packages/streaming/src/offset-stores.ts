import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { IoError, type OffsetStore, type StreamPosition } from '@fsm/core';

/** Positions in memory: for tests and single-process jobs that need no restart. */
export class MemoryOffsetStore implements OffsetStore {
  readonly specificationVersion = 'v1' as const;
  private readonly positions = new Map<string, StreamPosition>();

  async load(streamId: string): Promise<StreamPosition | undefined> {
    const position = this.positions.get(streamId);
    return position ? { ...position } : undefined;
  }

  async save(streamId: string, position: StreamPosition): Promise<void> {
    this.positions.set(streamId, { ...position });
  }

  async close(): Promise<void> {
    this.positions.clear();
  }
}

/** Positions in one JSON file, replaced atomically (temp file + rename) at every save. */
export class FileOffsetStore implements OffsetStore {
  readonly specificationVersion = 'v1' as const;
  private writing: Promise<void> = Promise.resolve();

  constructor(readonly path: string) {}

  async load(streamId: string): Promise<StreamPosition | undefined> {
    return (await this.readAll())[streamId];
  }

  save(streamId: string, position: StreamPosition): Promise<void> {
    // Saves are serialized so two commits never race on the temp file.
    const next = this.writing.then(async () => {
      const all = await this.readAll();
      all[streamId] = position;
      await mkdir(dirname(this.path), { recursive: true });
      const temp = `${this.path}.tmp-${randomBytes(4).toString('hex')}`;
      await writeFile(temp, JSON.stringify(all));
      await rename(temp, this.path);
    });
    this.writing = next.catch((error: unknown) => {
      throw new IoError(`${this.path}: saving the offset of "${streamId}" failed`, {
        source: this.path,
        cause: error,
      });
    });
    return this.writing;
  }

  async close(): Promise<void> {
    await this.writing;
  }

  private async readAll(): Promise<Record<string, StreamPosition>> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new IoError(`${this.path}: cannot read offsets`, { source: this.path, cause: error });
    }
    try {
      return JSON.parse(text) as Record<string, StreamPosition>;
    } catch (error) {
      throw new IoError(`${this.path}: offsets file is corrupt`, { source: this.path, cause: error });
    }
  }
}
