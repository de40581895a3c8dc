import { z } from 'zod';
import { formatPath } from '../../config/path.js';
import type { FunctionParams } from '../../config/types.js';
import { ConfigError, type ConfigIssue } from '../../errors/errors.js';
import { forbiddenSegment } from '../../util/safe-keys.js';
import type { BuiltinFunction, FunctionContext, FunctionRole } from '../types.js';

type Callable = (data: unknown, context: FunctionContext) => unknown;

/** Config params deeper than this are not scanned for `__proto__` keys (the loader bounds configs anyway). */
const MAX_PARAMS_DEPTH = 64;

/**
 * `__proto__` keys anywhere in params: zod drops them silently from records (and an assignment would swap a
 * prototype), so a config naming one is refused instead of half-applied.
 */
function protoKeys(value: unknown, path: PropertyKey[], issues: ConfigIssue[], depth = 0): void {
  if (typeof value !== 'object' || value === null || depth > MAX_PARAMS_DEPTH) return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      protoKeys(item, [...path, i], issues, depth + 1);
    });
    return;
  }
  for (const key of Object.keys(value)) {
    if (key === '__proto__') {
      issues.push({ path: formatPath([...path, key]), message: '"__proto__" is not allowed as a key' });
    } else protoKeys((value as Record<string, unknown>)[key], [...path, key], issues, depth + 1);
  }
}

/**
 * Bad params of a builtin: issue paths start at `params` (`params.fields[0]`); the resolver anchors them
 * at the function reference. The message is the compact list of issues, for wrappers that combine them.
 */
export class BuiltinParamsError extends ConfigError {
  constructor(issues: readonly ConfigIssue[]) {
    super(issues);
    this.message = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
  }
}

/** One config issue per zod issue; a bad record key reports the key's own problem at the key. */
function zodIssues(issues: readonly z.core.$ZodIssue[]): ConfigIssue[] {
  return issues.map((issue) => {
    const path = formatPath(['params', ...issue.path]);
    if (issue.code === 'invalid_key') {
      const inner = issue.issues[0];
      return { path, message: inner ? inner.message : issue.message };
    }
    return { path, message: issue.message };
  });
}

/**
 * Declares a builtin (and its aliases) whose params are checked by a zod schema once, when the config is
 * compiled. Provider packages use it for their function packs (`defineBuiltin` from @fsm/core).
 * Bad params throw a ConfigError whose issue paths start at `params` (the resolver prefixes the path of
 * the function reference, e.g. `networks[0].states[1].transforms[0].params.fields[0]`).
 */
export function builtin<S extends z.ZodType>(spec: {
  name: string;
  aliases?: readonly string[];
  roles: readonly FunctionRole[];
  description: string;
  params: S;
  /** `false` for builtins that return promises (database, HTTP, LLM calls). Default true. */
  sync?: boolean;
  /** `true` for builtins that never change the data they are given: copy mode copies nothing for them. */
  pure?: boolean;
  create: (params: z.output<S>) => Callable;
}): BuiltinFunction[] {
  const make = (name: string): BuiltinFunction => ({
    name,
    roles: spec.roles,
    sync: spec.sync ?? true,
    ...(spec.pure ? { pure: true } : {}),
    description: spec.description,
    create(params: FunctionParams) {
      const issues: ConfigIssue[] = [];
      protoKeys(params, ['params'], issues);
      const parsed = spec.params.safeParse(params ?? {});
      if (!parsed.success) issues.push(...zodIssues(parsed.error.issues));
      if (issues.length > 0 || !parsed.success) throw new BuiltinParamsError(issues);
      return spec.create(parsed.data);
    },
  });
  return [make(spec.name), ...(spec.aliases ?? []).map(make)];
}

/** Why a field path is refused, or undefined (for zod refinements and provider packs). */
export function fieldPathProblem(path: string): string | undefined {
  const segment = forbiddenSegment(path);
  return segment === undefined
    ? undefined
    : `field path "${path}" contains "${segment}"; __proto__, constructor and prototype are not allowed in field paths`;
}

/** A dotted field path into the record (`a.b.c`); `__proto__`, `constructor`, `prototype` are refused. */
export const fieldPath = z
  .string()
  .min(1)
  .superRefine((path, ctx) => {
    const problem = fieldPathProblem(path);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** An object keyed by field paths (`{mapping: {from: to}}`, `{defaults: {path: value}}`). */
export const pathRecord = <V extends z.ZodType>(value: V) => z.record(fieldPath, value);

export const fieldList = z.array(fieldPath).min(1);
export { z };
