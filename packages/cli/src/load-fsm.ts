import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type FsmFunction, type FsmOptions, type HistoryStore, SimpleFSM } from '@fsm/core';
import { llmFunctions, llmResourceTypes } from '@fsm/llm';
import { defaultResourceTypes, ResourceManager, resourceFunctions } from '@fsm/resources';
import { createStorage, type DurableStore } from '@fsm/storage';
import { UsageError } from './exit-codes.js';

export interface FsmCliOptions {
  allowCode?: boolean;
  functions?: string;
  storage?: HistoryStore;
  checkpoint?: FsmOptions['checkpoint'];
  /** `--allow-read`: folders besides the config's that `$include`/`$import` may read. */
  allowRead?: readonly string[];
}

/** What `fsm resume <id>` needs to rebuild the FSM of a stored execution, kept in its checkpoint and history. */
export interface CliRunMetadata {
  config: string;
  functions?: string;
  allowCode: boolean;
  /** Absolute `--allow-read` folders, so `fsm resume` loads the config as the run did. */
  allowRead?: string[];
}

/** Loads `--functions module.mjs`: its exported functions become registered functions (needs --allow-code). */
export async function loadFunctionsModule(
  path: string | undefined,
  allowCode: boolean,
): Promise<Record<string, FsmFunction>> {
  if (!path) return {};
  if (!allowCode)
    throw new UsageError(`--functions ${path} runs code from that module: add --allow-code to allow it`);
  const file = resolve(path);
  if (!existsSync(file)) throw new UsageError(`--functions: "${path}" does not exist`);
  const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(mod).filter((e): e is [string, FsmFunction] => typeof e[1] === 'function'),
  );
}

/** What every FSM the CLI builds gets, here or on queue workers: the resource types and builtin packs. */
export const cliPackages = {
  // database/filesystem/http/llm/vector_store types; db_* and llm_* builtins.
  resourceTypes: { ...defaultResourceTypes, ...llmResourceTypes },
  builtins: [...resourceFunctions, ...llmFunctions],
} satisfies Pick<FsmOptions, 'resourceTypes' | 'builtins'>;

export async function createFsm(configPath: string, options: FsmCliOptions): Promise<SimpleFSM> {
  if (!existsSync(configPath)) throw new UsageError(`config file "${configPath}" does not exist`);
  const functions = await loadFunctionsModule(options.functions, options.allowCode ?? false);
  const allowRead = (options.allowRead ?? []).map((dir) => resolve(dir));
  return SimpleFSM.create(resolve(configPath), {
    functions,
    allowCode: options.allowCode ?? false,
    ...cliPackages,
    // Pooled resources with metrics.
    resourceManager: new ResourceManager(),
    ...(options.storage ? { storage: options.storage } : {}),
    ...(options.checkpoint ? { checkpoint: options.checkpoint } : {}),
    ...(allowRead.length > 0 ? { allowedRoots: allowRead } : {}),
    runMetadata: {
      config: resolve(configPath),
      ...(options.functions ? { functions: resolve(options.functions) } : {}),
      allowCode: options.allowCode ?? false,
      ...(allowRead.length > 0 ? { allowRead } : {}),
    } satisfies CliRunMetadata,
  });
}

export { describeConfigError } from './config-error.js';

/** Opens `--storage url` through @fsm/storage's factory (each backend's driver loads only when used). */
export async function openStorage(url: string | undefined): Promise<DurableStore | undefined> {
  if (!url) return undefined;
  return createStorage(url);
}
