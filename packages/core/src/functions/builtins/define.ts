import { z } from 'zod';
import type { FunctionParams } from '../../config/types.js';
import type { BuiltinFunction, FunctionContext, FunctionRole } from '../types.js';

type Callable = (data: unknown, context: FunctionContext) => unknown;

/** Declares a builtin whose params are checked by a zod schema once, when the config is compiled. */
export function builtin<S extends z.ZodType>(spec: {
  name: string;
  aliases?: readonly string[];
  roles: readonly FunctionRole[];
  description: string;
  params: S;
  create: (params: z.output<S>) => Callable;
}): BuiltinFunction[] {
  const make = (name: string): BuiltinFunction => ({
    name,
    roles: spec.roles,
    sync: true,
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
