import { Environment as CelEnvironment } from '@marcbachmann/cel-js';
import jsonata from 'jsonata';
import type { ExpressionLanguage } from '../config/types.js';
import { ConfigError } from '../errors/errors.js';
import { type AstNode, compileJsonataAst, type JsonataBindings } from './jsonata-compiler/compile.js';
import type { FunctionContext } from './types.js';

export type CompiledExpression = {
  sync: boolean;
  evaluate: (data: unknown, context: FunctionContext) => unknown;
};

const excerpt = (code: string) => (code.length > 40 ? `${code.slice(0, 37)}...` : code);

// Conversion stops this deep (values below stay as they are): records are not trusted to be shallow.
const CEL_MAX_DEPTH = 64;

const isPlainObject = (value: object): value is Record<string, unknown> => {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

/**
 * Record values as CEL sees them: integral JSON numbers (safe integers) become CEL ints (BigInt),
 * everything else stays. Copy-on-write: containers without integers are passed through as they are.
 */
function toCel(value: unknown, depth = 0): unknown {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : value;
  if (typeof value !== 'object' || value === null || depth >= CEL_MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      const converted = toCel(item, depth + 1);
      if (converted !== item) {
        copy ??= value.slice();
        copy[i] = converted;
      }
    }
    return copy ?? value;
  }
  if (!isPlainObject(value)) return value;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const item = value[key];
    const converted = toCel(item, depth + 1);
    if (converted !== item) {
      // A null prototype: a record key named `__proto__` stays an ordinary key.
      copy ??= Object.assign(Object.create(null) as Record<string, unknown>, value);
      copy[key] = converted;
    }
  }
  return copy ?? value;
}

/** CEL results back as records carry them: ints (BigInt) become plain numbers. */
function fromCel(value: unknown, depth = 0): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (typeof value !== 'object' || value === null || depth >= CEL_MAX_DEPTH) return value;
  if (Array.isArray(value)) return value.map((item) => fromCel(item, depth + 1));
  if (value instanceof Map) {
    const out: Record<string, unknown> = Object.create(null);
    for (const [k, v] of value) out[String(k)] = fromCel(v, depth + 1);
    return out;
  }
  if (!isPlainObject(value)) return value;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const item = value[key];
    const converted = fromCel(item, depth + 1);
    if (converted !== item) {
      copy ??= Object.assign(Object.create(null) as Record<string, unknown>, value);
      copy[key] = converted;
    }
  }
  return copy ?? value;
}

/**
 * CEL has no implicit int/double conversion; JSON numbers have no such distinction. Arithmetic that
 * mixes an int (an integral record number or literal) with a double is done in doubles, so
 * `amount * 1.1` works whether `amount` is 100 or 100.5. Comparisons across the two already work.
 */
const celEnvironment = (() => {
  const env = new CelEnvironment({ unlistedVariablesAreDyn: true });
  const ops: ReadonlyArray<[string, (a: number, b: number) => number]> = [
    ['+', (a, b) => a + b],
    ['-', (a, b) => a - b],
    ['*', (a, b) => a * b],
    ['/', (a, b) => a / b],
  ];
  for (const [op, fn] of ops) {
    env.registerOperator(`int ${op} double`, (a: bigint, b: number) => fn(Number(a), b));
    env.registerOperator(`double ${op} int`, (a: number, b: bigint) => fn(a, Number(b)));
  }
  return env;
})();

/** The top-level identifiers an expression reads (macro variables included; they are harmless). */
function celIdentifiers(ast: unknown): Set<string> {
  const names = new Set<string>();
  const stack: unknown[] = [ast];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === null || typeof node !== 'object') continue;
    if (Array.isArray(node)) {
      for (const item of node) stack.push(item);
      continue;
    }
    const { op, args } = node as { op?: unknown; args?: unknown };
    if (op === 'id' && typeof args === 'string') names.add(args);
    else stack.push(args);
  }
  return names;
}

function compileCel(code: string, path: string): CompiledExpression {
  let program: ((vars: Record<string, unknown>) => unknown) & { ast?: unknown };
  try {
    program = celEnvironment.parse(code) as unknown as typeof program;
  } catch (error) {
    throw new ConfigError([
      { path, message: `CEL syntax error in "${excerpt(code)}": ${(error as Error).message}` },
    ]);
  }
  // Only the fields the expression names are converted per record, not the whole record.
  const identifiers = celIdentifiers(program.ast);
  const fields = [...identifiers].filter((n) => n !== 'data' && n !== 'params' && n !== 'state');
  const usesData = identifiers.has('data');
  const usesParams = identifiers.has('params');
  return {
    sync: true,
    evaluate(data, context) {
      // The record's fields are the variables; `data`, `params` and `state` are always there too.
      const vars: Record<string, unknown> = Object.create(null);
      if (typeof data === 'object' && data !== null && !Array.isArray(data)) {
        const record = data as Record<string, unknown>;
        for (const name of fields) if (Object.hasOwn(record, name)) vars[name] = toCel(record[name]);
      }
      vars.data = usesData ? toCel(data) : data;
      vars.params = usesParams ? toCel(context.params) : context.params;
      vars.state = context.state;
      try {
        return fromCel(program(vars));
      } catch (error) {
        throw new Error(`CEL expression "${excerpt(code)}" failed: ${(error as Error).message}`);
      }
    },
  };
}

function compileJsonata(code: string, path: string, interpreter: boolean): CompiledExpression {
  let expression: ReturnType<typeof jsonata>;
  try {
    expression = jsonata(code);
  } catch (error) {
    const e = error as { message?: string; position?: number };
    throw new ConfigError([
      {
        path,
        message: `JSONata syntax error in "${excerpt(code)}"${e.position !== undefined ? ` at ${e.position}` : ''}: ${e.message}`,
      },
    ]);
  }
  const failed = (error: unknown) =>
    new Error(`JSONata expression "${excerpt(code)}" failed: ${(error as Error).message}`);
  const compiled = interpreter
    ? { declined: 'interpreter asked for' }
    : compileJsonataAst(expression.ast() as AstNode);
  if (typeof compiled === 'function') {
    // Reused per call: a compiled expression runs synchronously and is never re-entered.
    const bindings: JsonataBindings = { params: undefined, state: undefined, context: undefined };
    return {
      sync: true,
      evaluate(data, context) {
        bindings.params = context.params;
        bindings.state = context.state;
        bindings.context = context;
        try {
          return compiled(data, bindings);
        } catch (error) {
          throw failed(error);
        } finally {
          bindings.context = undefined;
        }
      },
    };
  }
  // The compiler declined (compiled.declined says why): JSONata's own interpreter, which is async.
  return {
    sync: false,
    async evaluate(data, context) {
      try {
        return await expression.evaluate(data, { params: context.params, state: context.state, context });
      } catch (error) {
        throw failed(error);
      }
    },
  };
}

export interface ExpressionOptions {
  /** JSONata only: skip the compiler and always use jsonata's (async) interpreter; for comparisons. */
  interpreter?: boolean;
}

/**
 * Compiles an expression once; a resolver caches the result by language and code. JSONata compiles to
 * a synchronous closure when every construct is covered (see jsonata-compiler/), else it is interpreted.
 */
export function compileExpression(
  code: string,
  language: ExpressionLanguage,
  path: string,
  options: ExpressionOptions = {},
): CompiledExpression {
  return language === 'cel'
    ? compileCel(code, path)
    : compileJsonata(code, path, options.interpreter === true);
}
