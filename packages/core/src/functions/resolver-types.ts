import type { FunctionRef } from '../config/types.js';
import type { BuiltinFunction, FsmFunction, FunctionRole, ResolvedFunction } from './types.js';

/** Resolves config references to callables; built once per compiled config. */
export interface FunctionResolver {
  /**
   * Resolves one reference. Throws a `ConfigError` naming `path` when the reference is unknown,
   * malformed, or is code while code is not allowed (`CODE_NOT_ALLOWED`).
   */
  resolve(ref: FunctionRef, role: FunctionRole, path: string): Promise<ResolvedFunction>;
}

export interface FunctionResolverOptions {
  /** Functions registered by the caller (`SimpleFSM.create(..., { functions })`); looked up first. */
  registered?: Readonly<Record<string, FsmFunction>>;
  /** Extra builtin packs (e.g. from `@fsm/llm`); their names shadow core builtins of the same name. */
  builtins?: readonly BuiltinFunction[];
  /** The config's `functions:` section: named references usable by name. */
  named?: Readonly<Record<string, FunctionRef>>;
  allowCode?: boolean;
  /** Directory custom modules resolve against (the config file's directory). */
  baseDir?: string;
}
