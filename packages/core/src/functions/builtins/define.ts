import { z } from 'zod';
import type { FunctionParams } from '../../config/types.js';
import type { BuiltinFunction, FunctionContext, FunctionRole } from '../types.js';

type Callable = (data: unknown, context: FunctionContext) => unknown;

/**
 * Declares a builtin (and its aliases) whose params are checked by a zod schema once, when the config is
 * compiled. Provider packages use it for their function packs (`defineBuiltin` from @fsm/core).
 */
export function builtin<S extends z.ZodType>(spec: {
  name: string;
  aliases?: readonly string[];
  roles: readonly FunctionRole[];
  description: string;
  params: S;
  /** `false` for builtins that return promises (database, HTTP, LLM calls). Default true. */
  sync?: boolean;
  create: (params: z.output<S>) => Callable;
}): BuiltinFunction[] {
  const make = (name: string): BuiltinFunction => ({
    name,
    roles: spec.roles,
    sync: spec.sync ?? true,
    description: spec.description,
    create(params: FunctionParams) {
      const parsed = spec.params.safeParse(params ?? {});
      if (!parsed.success) {
        throw new Error(
          parsed.error.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; '),
        );
      }
      return spec.create(parsed.data);
    },
  });
  return [make(spec.name), ...(spec.aliases ?? []).map(make)];
}

export const fieldList = z.array(z.string().min(1)).min(1);
export { z };
