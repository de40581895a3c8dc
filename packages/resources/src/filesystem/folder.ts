import { randomBytes } from 'node:crypto';
import {
  appendFile,
  mkdir,
  readdir,
  readFile,
  realpath,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ResourceError } from '@fsm/core';

/**
 * A path that would leave the folder (`../x`, `/etc/passwd`, or a link inside the folder that points out of
 * it): refused before the file is opened.
 */
export class PathOutsideFolderError extends ResourceError {
  /** The path as given (`path` of FsmError is reserved for config paths). */
  readonly filePath: string;
  readonly root: string;
  /** Where links took the path, when that is what leaves the folder. */
  readonly resolvedPath: string | undefined;
  constructor(resource: string, path: string, root: string, resolvedPath?: string) {
    const via = resolvedPath === undefined ? '' : ` (links lead to ${resolvedPath})`;
    super(
      'RESOURCE_UNAVAILABLE',
      resource,
      `path "${path}" is outside the folder ${root} of "${resource}"${via}`,
    );
    this.filePath = path;
    this.root = root;
    this.resolvedPath = resolvedPath;
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** `full` with links resolved; for a path that does not exist yet, its nearest existing folder's real path. */
async function realTarget(full: string): Promise<string> {
  const rest: string[] = [];
  let current = full;
  for (;;) {
    try {
      const real = await realpath(current);
      return rest.length === 0 ? real : join(real, ...rest);
    } catch (error) {
      const parent = dirname(current);
      if (!isMissing(error) || parent === current) throw error;
      rest.unshift(basename(current));
      current = parent;
    }
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
  #realRoot: string | undefined;

  constructor(
    readonly root: string,
    private readonly resource = 'filesystem',
  ) {}

  /** The absolute path of `path` inside the folder; refuses paths outside it (by name: see {@link confine}). */
  resolve(path: string): string {
    const full = resolve(this.root, path);
    const rel = relative(this.root, full);
    // `..notes.txt` is a file inside the folder; only a `..` segment leaves it.
    if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel))
      throw new PathOutsideFolderError(this.resource, path, this.root);
    return full;
  }

  /**
   * The real path of `path` (links resolved; for a new file, its nearest existing folder's) after checking
   * that it is still inside the real path of the folder. Every operation goes through here, so a link
   * inside the folder to a file or folder outside it is refused, not followed.
   */
  async confine(path: string): Promise<string> {
    const full = this.resolve(path);
    const root = await this.#root();
    const real = await realTarget(full);
    const rel = relative(root, real);
    if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel))
      throw new PathOutsideFolderError(this.resource, path, this.root, real);
    return real;
  }

  async #root(): Promise<string> {
    if (this.#realRoot !== undefined) return this.#realRoot;
    try {
      this.#realRoot = await realpath(this.root);
      return this.#realRoot;
    } catch (error) {
      // Not created yet: nothing inside it exists, so its name stands in (and is not cached).
      if (isMissing(error)) return resolve(this.root);
      throw error;
    }
  }

  async readText(path: string, options: FileOptions = {}): Promise<string> {
    return readFile(await this.confine(path), { encoding: 'utf8', ...options });
  }

  async readJson<T = unknown>(path: string, options: FileOptions = {}): Promise<T> {
    return JSON.parse(await this.readText(path, options)) as T;
  }

  /**
   * Writes atomically: a reader sees the old content or the new, never half of it. The temp file and the
   * rename target are the confined real path, so a link that points out of the folder is never written.
   */
  async writeText(path: string, text: string, options: FileOptions = {}): Promise<void> {
    const full = await this.confine(path);
    await mkdir(dirname(full), { recursive: true });
    const temp = `${full}.tmp-${randomBytes(4).toString('hex')}`;
    try {
      await writeFile(temp, text, { ...options, flag: 'wx' });
      await rename(temp, full);
    } catch (error) {
      try {
        await rm(temp, { force: true });
      } catch (cleanupError) {
        throw new AggregateError([error, cleanupError], `writing ${path} failed and its temp file remains`);
      }
      throw error;
    }
  }

  async writeJson(path: string, value: unknown, options: FileOptions = {}): Promise<void> {
    return this.writeText(path, `${JSON.stringify(value, null, 2)}\n`, options);
  }

  async appendText(path: string, text: string): Promise<void> {
    const full = await this.confine(path);
    await mkdir(dirname(full), { recursive: true });
    await appendFile(full, text);
  }

  async list(path = '.'): Promise<string[]> {
    return (await readdir(await this.confine(path))).sort();
  }

  async exists(path: string): Promise<boolean> {
    try {
      await stat(await this.confine(path));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  /** Removes a file or folder; a link is removed itself (what it points to is left alone). */
  async remove(path: string): Promise<void> {
    const full = this.resolve(path);
    const parent = dirname(full);
    if (full === resolve(this.root) || parent === full) {
      await rm(await this.confine(path), { recursive: true, force: true });
      return;
    }
    // The entry's folder must really be inside; the entry itself is unlinked, never followed.
    const realParent = await this.confine(relative(this.root, parent) || '.');
    await rm(join(realParent, basename(full)), { recursive: true, force: true });
  }
}
