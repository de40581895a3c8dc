import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { ResourceError } from '@fsm/core';

/** A path that would leave the folder (`../x`, `/etc/passwd`): refused before touching the disk. */
export class PathOutsideFolderError extends ResourceError {
  /** The path as given (`path` of FsmError is reserved for config paths). */
  readonly filePath: string;
  readonly root: string;
  constructor(resource: string, path: string, root: string) {
    super('RESOURCE_UNAVAILABLE', resource, `path "${path}" is outside the folder ${root} of "${resource}"`);
    this.filePath = path;
    this.root = root;
  }
}

export interface FileOptions {
  signal?: AbortSignal;
}

/**
 * File access confined to one folder: every path is relative to it, and a path that escapes it
 * (`../`, absolute paths) is refused. Whole-file writes go to a temp file that is renamed into place.
 */
export class Folder {
  constructor(
    readonly root: string,
    private readonly resource = 'filesystem',
  ) {}

  /** The absolute path of `path` inside the folder; refuses paths outside it. */
  resolve(path: string): string {
    const full = resolve(this.root, path);
    const rel = relative(this.root, full);
    // `..notes.txt` is a file inside the folder; only a `..` segment leaves it.
    if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel))
      throw new PathOutsideFolderError(this.resource, path, this.root);
    return full;
  }

  async readText(path: string, options: FileOptions = {}): Promise<string> {
    return readFile(this.resolve(path), { encoding: 'utf8', ...options });
  }

  async readJson<T = unknown>(path: string, options: FileOptions = {}): Promise<T> {
    return JSON.parse(await this.readText(path, options)) as T;
  }

  /** Writes atomically: a reader sees the old content or the new, never half of it. */
  async writeText(path: string, text: string, options: FileOptions = {}): Promise<void> {
    const full = this.resolve(path);
    await mkdir(dirname(full), { recursive: true });
    const temp = `${full}.tmp-${randomBytes(4).toString('hex')}`;
    try {
      await writeFile(temp, text, options);
      await rename(temp, full);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  async writeJson(path: string, value: unknown, options: FileOptions = {}): Promise<void> {
    return this.writeText(path, `${JSON.stringify(value, null, 2)}\n`, options);
  }

  async appendText(path: string, text: string): Promise<void> {
    const full = this.resolve(path);
    await mkdir(dirname(full), { recursive: true });
    await appendFile(full, text);
  }

  async list(path = '.'): Promise<string[]> {
    return (await readdir(this.resolve(path))).sort();
  }

  async exists(path: string): Promise<boolean> {
    try {
      await stat(this.resolve(path));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  async remove(path: string): Promise<void> {
    await rm(this.resolve(path), { recursive: true, force: true });
  }
}
