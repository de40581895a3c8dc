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

/**
 * Sets an own property, also for the key `__proto__` (which plain assignment would turn into a prototype
 * change). Plain objects, not null-prototype ones: cel-js reads those several times slower.
 */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

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
      // Spread defines own properties: a record key named `__proto__` stays an ordinary key.
      copy ??= { ...value };
      setOwn(copy, key, converted);
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
    const out: Record<string, unknown> = {};
    for (const [k, v] of value) setOwn(out, String(k), fromCel(v, depth + 1));
    return out;
  }
  if (!isPlainObject(value)) return value;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const item = value[key];
    const converted = fromCel(item, depth + 1);
    if (converted !== item) {
      copy ??= { ...value };
      setOwn(copy, key, converted);
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

interface CelNames {
  /** Top-level identifiers (record fields, `data`, `params`, `state`; macro variables too, harmlessly). */
  identifiers: Set<string>;
  /** The fields read as `data.<field>`, or undefined when `data` is also used otherwise (whole). */
  dataFields: Set<string> | undefined;
}

function celNames(ast: unknown): CelNames {
  const identifiers = new Set<string>();
  const dataFields = new Set<string>();
  let wholeData = false;
  const stack: unknown[] = [ast];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === null || typeof node !== 'object') continue;
    if (Array.isArray(node)) {
      for (const item of node) stack.push(item);
      continue;
    }
    const { op, args } = node as { op?: unknown; args?: unknown };
    if (op === 'id' && typeof args === 'string') {
      identifiers.add(args);
      if (args === 'data') wholeData = true;
      continue;
    }
    if (op === '.' && Array.isArray(args) && typeof args[1] === 'string') {
      const target = args[0] as { op?: unknown; args?: unknown } | undefined;
      if (target?.op === 'id' && target.args === 'data') {
        identifiers.add('data');
        dataFields.add(args[1]);
        continue;
      }
    }
    stack.push(args);
  }
  return { identifiers, dataFields: wholeData ? undefined : dataFields };
}

/** `data` as CEL sees it: only the named fields of a plain record when that is all it reads. */
function celData(data: unknown, fields: Set<string> | undefined): unknown {
  if (fields === undefined || typeof data !== 'object' || data === null || !isPlainObject(data)) {
    return toCel(data);
  }
  const projection: Record<string, unknown> = {};
  for (const name of fields) if (Object.hasOwn(data, name)) setOwn(projection, name, toCel(data[name]));
  return projection;
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
  // Only the fields the expression names are converted per record, never the whole record.
  const { identifiers, dataFields } = celNames(program.ast);
  const fields = [...identifiers].filter((n) => n !== 'data' && n !== 'params' && n !== 'state');
  const usesData = identifiers.has('data');
  const usesParams = identifiers.has('params');
  // One variables object per expression, always the same shape (fast lookups in cel-js); a variable
  // set to undefined is an unknown variable to cel-js, like an absent one. Evaluation is synchronous;
  // re-entry (a getter in the data evaluating the same expression) gets an object of its own.
  const fresh = () => {
    const vars: Record<string, unknown> = {};
    for (const name of fields) setOwn(vars, name, undefined);
    vars.data = vars.params = vars.state = undefined;
    return vars;
  };
  const shared = fresh();
  let busy = false;
  return {
    sync: true,
    evaluate(data, context) {
      const reentered = busy;
      const vars = reentered ? fresh() : shared;
      busy = true;
      try {
        // The record's fields are the variables; `data`, `params` and `state` are always there too.
        const record =
          typeof data === 'object' && data !== null && !Array.isArray(data)
            ? (data as Record<string, unknown>)
            : undefined;
        for (const name of fields) {
          setOwn(
            vars,
            name,
            record !== undefined && Object.hasOwn(record, name) ? toCel(record[name]) : undefined,
          );
        }
        vars.data = usesData ? celData(data, dataFields) : data;
        vars.params = usesParams ? toCel(context.params) : context.params;
        vars.state = context.state;
        return fromCel(program(vars));
      } catch (error) {
        throw new Error(`CEL expression "${excerpt(code)}" failed: ${(error as Error).message}`);
      } finally {
        // The record is not kept alive by the expression between evaluations.
        for (const name of fields) setOwn(vars, name, undefined);
        vars.data = vars.params = undefined;
        busy = reentered;
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
