import { parse as parseCel } from '@marcbachmann/cel-js';
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

/** CEL returns bigint for integer arithmetic; records carry plain numbers. */
function fromCel(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(fromCel);
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), fromCel(v)]));
  return value;
}

function compileCel(code: string, path: string): CompiledExpression {
  let program: (vars: Record<string, unknown>) => unknown;
  try {
    program = parseCel(code) as unknown as (vars: Record<string, unknown>) => unknown;
  } catch (error) {
    throw new ConfigError([
      { path, message: `CEL syntax error in "${excerpt(code)}": ${(error as Error).message}` },
    ]);
  }
  return {
    sync: true,
    evaluate(data, context) {
      // The record's fields are the variables; `data`, `params` and `state` are always there too.
      const vars: Record<string, unknown> =
        typeof data === 'object' && data !== null && !Array.isArray(data)
          ? { ...(data as Record<string, unknown>), data, params: context.params, state: context.state }
          : { data, params: context.params, state: context.state };
      try {
        return fromCel(program(vars));
      } catch (error) {
        throw new Error(`CEL expression "${excerpt(code)}" failed: ${(error as Error).message}`);
      }
    },
  };
}

function compileJsonata(code: string, path: string): CompiledExpression {
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
  const compiled = compileJsonataAst(expression.ast() as AstNode);
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

/** Compiles an expression once; a resolver caches the result by language and code. */
export function compileExpression(
  code: string,
  language: ExpressionLanguage,
  path: string,
): CompiledExpression {
  return language === 'cel' ? compileCel(code, path) : compileJsonata(code, path);
}
