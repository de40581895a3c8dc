import { isAbsolute, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FunctionParams, FunctionRef } from '../config/types.js';
import { ConfigError } from '../errors/errors.js';
import { dataknobsLibraryName } from './builtins/dataknobs/index.js';
import { coreBuiltins } from './builtins/index.js';
import { type CompiledExpression, compileExpression } from './expressions.js';
import type { FunctionResolver, FunctionResolverOptions } from './resolver-types.js';
import type {
  BuiltinFunction,
  FsmFunction,
  FunctionContext,
  FunctionRole,
  ResolvedFunction,
} from './types.js';

type Callable = (data: unknown, context: FunctionContext) => unknown;
/** Own-key lookup: a name never resolves to an inherited member (`constructor`, `toString`, `__proto__`). */
const own = <V>(table: Readonly<Record<string, V>>, name: string): V | undefined =>
  Object.hasOwn(table, name) ? table[name] : undefined;
const EMPTY: FunctionParams = Object.freeze({}) as FunctionParams;
const looksLikeCode = (s: string) => !/^[A-Za-z_][\w.-]*$/.test(s);

const isAsyncFunction = (fn: unknown) =>
  typeof fn === 'function' && (fn as { constructor: { name: string } }).constructor.name === 'AsyncFunction';

/** Levenshtein distance, for "did you mean" on unknown names. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = i - 1;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = row[j] as number;
      row[j] = Math.min(
        (row[j] as number) + 1,
        (row[j - 1] as number) + 1,
        prev + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      prev = next;
    }
  }
  return row[b.length] as number;
}

/**
 * Resolves config references to callables. Lookup of a name: registered functions, then builtins (packs
 * given in options first, then core's), then the config's `functions:` section. Code from the config
 * (inline, custom modules) is refused with CODE_NOT_ALLOWED unless `allowCode` is set.
 */
export function createFunctionResolver(options: FunctionResolverOptions = {}): FunctionResolver {
  const registered = options.registered ?? {};
  const builtins = new Map<string, BuiltinFunction>();
  for (const b of coreBuiltins) builtins.set(b.name, b);
  for (const b of options.builtins ?? []) builtins.set(b.name, b);
  const named = options.named ?? {};
  const allowCode = options.allowCode ?? false;
  const baseDir = options.baseDir ?? process.cwd();
  const expressions = new Map<string, CompiledExpression>();

  const refuse = (path: string, what: string) =>
    new ConfigError(
      [
        {
          path,
          message: `${what} is code from the config; pass allowCode: true (CLI --allow-code) to run it`,
        },
      ],
      {
        code: 'CODE_NOT_ALLOWED',
      },
    );

  const unknown = (name: string, path: string, where: string) => {
    const candidates = [...Object.keys(registered), ...builtins.keys(), ...Object.keys(named)];
    const close = candidates.filter((c) => distance(c.toLowerCase(), name.toLowerCase()) <= 2).slice(0, 3);
    const hint = close.length ? ` (did you mean ${close.map((c) => `"${c}"`).join(', ')}?)` : '';
    return new ConfigError([{ path, message: `unknown ${where} "${name}"${hint}` }]);
  };

  const fromBuiltin = (b: BuiltinFunction, params: FunctionParams, path: string): ResolvedFunction => {
    let call: Callable;
    try {
      call = b.create(params);
    } catch (error) {
      // Issues of params are reported relative to the reference (`params.fields[0]`): anchor them here.
      if (error instanceof ConfigError) {
        const relative = (p: string) => p === 'params' || p.startsWith('params.') || p.startsWith('params[');
        if (!error.issues.some((i) => relative(i.path))) throw error;
        throw new ConfigError(
          error.issues.map((i) =>
            relative(i.path)
              ? { ...i, path: `${path}.${i.path}`, message: `builtin "${b.name}": ${i.message}` }
              : i,
          ),
          { code: error.code === 'CODE_NOT_ALLOWED' ? 'CODE_NOT_ALLOWED' : 'CONFIG_INVALID', cause: error },
        );
      }
      throw new ConfigError([
        { path: `${path}.params`, message: `builtin "${b.name}": ${(error as Error).message}` },
      ]);
    }
    return { name: b.name, path, sync: b.sync, ...(b.pure ? { pure: true } : {}), params, call };
  };

  const fromRegistered = (
    name: string,
    fn: FsmFunction,
    params: FunctionParams,
    path: string,
  ): ResolvedFunction => ({
    name,
    path,
    sync: !isAsyncFunction(fn),
    params,
    call: fn as Callable,
  });

  const byName = async (
    name: string,
    params: FunctionParams,
    role: FunctionRole,
    path: string,
    seen: Set<string>,
  ) => {
    const fn = own(registered, name);
    if (typeof fn === 'function') return fromRegistered(name, fn, params, path);
    const b = builtins.get(name);
    if (b) return fromBuiltin(b, params, path);
    const ref = own(named, name);
    if (ref !== undefined) {
      if (seen.has(name))
        throw new ConfigError([
          { path, message: `functions: "${name}" refers to itself (${[...seen, name].join(' → ')})` },
        ]);
      seen.add(name);
      const resolved = await resolveRef(ref, role, `functions.${name}`, seen);
      return { ...resolved, path, params: Object.keys(params).length ? params : resolved.params };
    }
    return undefined;
  };

  const expression = (
    code: string,
    language: 'jsonata' | 'cel',
    params: FunctionParams,
    path: string,
  ): ResolvedFunction => {
    const key = `${language}\u0000${code}`;
    let compiled = expressions.get(key);
    if (!compiled) {
      compiled = compileExpression(code, language, path);
      expressions.set(key, compiled);
    }
    return {
      name: `${language}: ${code.length > 30 ? `${code.slice(0, 27)}...` : code}`,
      path,
      sync: compiled.sync,
      pure: true,
      expression: true,
      params,
      call: compiled.evaluate,
    };
  };

  const inline = async (code: string, params: FunctionParams, path: string): Promise<ResolvedFunction> => {
    if (!allowCode) throw refuse(path, 'inline code');
    const { compileInlineCode } = await import('./inline-code.js');
    const { fn, sync } = compileInlineCode(code, path);
    return {
      name: `inline: ${code.length > 30 ? `${code.slice(0, 27)}...` : code}`,
      path,
      sync,
      params,
      call: fn,
    };
  };

  async function resolveRef(
    ref: FunctionRef,
    role: FunctionRole,
    path: string,
    seen: Set<string>,
  ): Promise<ResolvedFunction> {
    if (typeof ref === 'string') {
      const found = await byName(ref, EMPTY, role, path, seen);
      if (found) return found;
      if (looksLikeCode(ref)) {
        if (!allowCode) throw refuse(path, `"${ref}" is not a known function name and`);
        return inline(ref, EMPTY, path);
      }
      throw unknown(ref, path, 'function');
    }
    const params = ref.params ?? EMPTY;
    switch (ref.type) {
      case 'registered': {
        const found = await byName(ref.name, params, role, path, seen);
        if (!found) throw unknown(ref.name, `${path}.name`, 'function');
        return found;
      }
      case 'builtin': {
        const b = builtins.get(ref.name);
        if (!b) throw unknown(ref.name, `${path}.name`, 'builtin');
        return fromBuiltin(b, params, path);
      }
      case 'expression':
        return expression(ref.code, ref.language ?? 'jsonata', params, `${path}.code`);
      case 'inline':
        return inline(ref.code, params, `${path}.code`);
      case 'custom': {
        // dataknobs configs name its own library as a Python module: that is a builtin here, not code.
        const library = dataknobsLibraryName(ref.module, ref.name);
        const libraryBuiltin = library === undefined ? undefined : builtins.get(library);
        if (libraryBuiltin) return fromBuiltin(libraryBuiltin, params, path);
        if (!allowCode) throw refuse(path, `module "${ref.module}"`);
        const file = isAbsolute(ref.module) ? ref.module : resolvePath(baseDir, ref.module);
        let mod: Record<string, unknown>;
        try {
          mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
        } catch (error) {
          throw new ConfigError([
            { path: `${path}.module`, message: `cannot import "${ref.module}": ${(error as Error).message}` },
          ]);
        }
        const fn = own(mod, ref.name);
        if (typeof fn !== 'function') {
          throw new ConfigError([
            {
              path: `${path}.name`,
              message: `module "${ref.module}" has no exported function "${ref.name}"`,
            },
          ]);
        }
        return fromRegistered(ref.name, fn as FsmFunction, params, path);
      }
    }
  }

  return { resolve: (ref, role, path) => resolveRef(ref, role, path, new Set()) };
}

/** Names, roles and descriptions of core's builtins (for docs and the CLI). */
export function listBuiltins(
  extra: readonly BuiltinFunction[] = [],
): Array<Pick<BuiltinFunction, 'name' | 'roles' | 'description'>> {
  return [...coreBuiltins, ...extra].map(({ name, roles, description }) => ({ name, roles, description }));
}
