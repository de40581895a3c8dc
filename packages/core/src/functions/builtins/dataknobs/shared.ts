import { ConfigError } from '../../../errors/errors.js';
import type { BuiltinFunction, FunctionContext } from '../../types.js';
import { z } from '../define.js';
import { forbiddenSegment } from '../../../util/safe-keys.js';

export type Callable = (data: unknown, context: FunctionContext) => unknown;

/** A field or key name from a config: never one that would walk a prototype. */
export const key = () =>
  z
    .string()
    .min(1)
    .refine((k) => forbiddenSegment(k) === undefined, {
      error: (i) => `"${String(i.input)}" is not allowed as a field name`,
    });

/** A `{field: spec}` map (the keyword arguments of dataknobs' factories) with safe field names. */
export const fieldMap = <T extends z.ZodType>(value: T) => z.record(key(), value);

/** A validator outcome with dataknobs' own message (what its FSMValidationError says). */
export const invalid = (message: string) => ({ valid: false, errors: [{ path: '', message }] });

const complaint = (error: unknown): string =>
  error instanceof ConfigError
    ? error.issues.map((i) => `${i.path}: ${i.message}`).join('; ')
    : (error as Error).message;

/**
 * One builtin answering to two spellings of its params. Params written only with our keys (`ourKeys`) go
 * to ours, any others to dataknobs'; when that one refuses them the other is tried, and when both refuse,
 * both complaints are reported.
 */
export function either(
  name: string,
  ours: BuiltinFunction,
  theirs: BuiltinFunction,
  ourKeys: readonly string[],
): BuiltinFunction {
  return {
    name,
    roles: [...new Set([...ours.roles, ...theirs.roles])],
    sync: ours.sync && theirs.sync,
    description: `${ours.description} Also takes dataknobs-fsm's parameters: ${theirs.description}`,
    create(params) {
      const keys = Object.keys(params ?? {});
      const oursFirst = keys.every((k) => ourKeys.includes(k));
      const [first, second] = oursFirst ? [ours, theirs] : [theirs, ours];
      try {
        return first.create(params);
      } catch (firstError) {
        try {
          return second.create(params);
        } catch (secondError) {
          const [o, t] = oursFirst ? [firstError, secondError] : [secondError, firstError];
          throw new Error(`${complaint(o)} (or, with dataknobs-fsm's parameters: ${complaint(t)})`);
        }
      }
    },
  };
}

/** The names a dataknobs library member answers to here. */
export interface Spelling {
  module: 'validators' | 'transformers' | 'database' | 'enrichers' | 'streaming';
  /** Class (`RangeValidator`) and/or factory (`range_check`) name. */
  name: string;
}

/**
 * One member of dataknobs' library: its class (with the class's parameter names) and its factory function
 * (with the factory's: often the keyword arguments themselves, `range_check: {amount: {min: 0}}`).
 */
export interface Member<C extends z.ZodType, F extends z.ZodType> {
  module: Spelling['module'];
  cls: string;
  factory?: string;
  roles: BuiltinFunction['roles'];
  sync?: boolean;
  description: string;
  classParams: C;
  factoryParams?: F;
  /** The class parameters the factory passes on. */
  fromFactory?: (params: z.output<F>) => z.output<C>;
  create: (params: z.output<C>) => Callable;
}

export interface MemberFunctions {
  /** `validators.RangeValidator`, `validators.range_check` and the bare class and factory names. */
  qualified: BuiltinFunction[];
  bare: BuiltinFunction[];
}

export function member<C extends z.ZodType, F extends z.ZodType>(m: Member<C, F>): MemberFunctions {
  const make = (name: string, schema: z.ZodType, toClass: (p: unknown) => z.output<C>): BuiltinFunction => ({
    name,
    roles: m.roles,
    sync: m.sync ?? true,
    description: m.description,
    create(params) {
      const parsed = schema.safeParse(params ?? {});
      if (!parsed.success) {
        throw new Error(
          `${name}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; ')}`,
        );
      }
      return m.create(toClass(parsed.data));
    },
  });
  const cls = (name: string) => make(name, m.classParams, (p) => p as z.output<C>);
  const qualified = [cls(`${m.module}.${m.cls}`)];
  const bare = [cls(m.cls)];
  if (m.factory && m.factoryParams && m.fromFactory) {
    const fromFactory = m.fromFactory;
    const factory = (name: string) =>
      make(name, m.factoryParams as z.ZodType, (p) => fromFactory(p as z.output<F>));
    qualified.push(factory(`${m.module}.${m.factory}`));
    bare.push(factory(m.factory));
  }
  return { qualified, bare };
}
