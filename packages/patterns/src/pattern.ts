import { type BuiltinFunction, type FsmFunction, type FsmOptions, SimpleFSM } from '@fsm/core';

/** What every pattern returns: a config and its functions, ready for `SimpleFSM.create` or the CLI. */
export interface PatternFsm {
  /** dataknobs-format config (plain JSON: write it to YAML to run it with `fsm run`). */
  readonly config: Record<string, unknown>;
  readonly functions: Readonly<Record<string, FsmFunction>>;
  readonly builtins?: readonly BuiltinFunction[];
  /** Creates the FSM; `options` are merged (functions added to the pattern's). */
  create(options?: FsmOptions): Promise<SimpleFSM>;
}

export function pattern(
  config: Record<string, unknown>,
  functions: Record<string, FsmFunction>,
  builtins: readonly BuiltinFunction[] = [],
): PatternFsm {
  return {
    config,
    functions,
    builtins,
    create: (options: FsmOptions = {}) =>
      SimpleFSM.create(config, {
        ...options,
        functions: { ...functions, ...options.functions },
        builtins: [...builtins, ...(options.builtins ?? [])],
      }),
  };
}
