import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ResourceConfig, ResourceProvider } from '@fsm/core';
import { Folder } from './folder.js';

export interface FilesystemProviderOptions {
  name?: string;
  /** The folder handles are confined to (created when missing). */
  root: string;
}

/** Hands out `Folder`s confined to `root`. */
export function filesystemProvider(options: FilesystemProviderOptions): ResourceProvider<Folder> {
  const root = resolve(options.root);
  const name = options.name ?? 'filesystem';
  return {
    specificationVersion: 'v1',
    type: 'filesystem',
    name,
    async create(signal) {
      signal?.throwIfAborted();
      await mkdir(root, { recursive: true });
      return new Folder(root, name);
    },
    async validate(folder) {
      return folder.exists('.');
    },
    async destroy() {
      // A Folder holds no open descriptors: each call opens and closes its own.
    },
    async close() {
      // Nothing shared to release.
    },
  };
}

/** `type: filesystem` with `config: { root | base_path | path }`. */
export function filesystemResource(config: ResourceConfig): ResourceProvider<Folder> {
  const c = config.config;
  const root =
    [c.root, c.base_path, c.base_dir, c.path].find((v): v is string => typeof v === 'string') ?? '.';
  return filesystemProvider({ name: config.name, root });
}
