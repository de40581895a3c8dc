// The only place config code becomes a function. Reached only when the caller passed allowCode: true.
import { ConfigError } from '../errors/errors.js';

export type InlineFunction = (data: unknown, context: unknown) => unknown;

/** A JavaScript expression (`data['x'] > 5`) or function body (`return ...`) over `data` and `context`. */
export function compileInlineCode(code: string, path: string): { fn: InlineFunction; sync: boolean } {
  const isBody = /\breturn\b/.test(code) || code.includes(';') || code.includes('\n');
  const usesAwait = /\bawait\b/.test(code);
  const body = isBody ? code : `return (${code});`;
  try {
    if (usesAwait) {
      const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as FunctionConstructor;
      return { fn: new AsyncFunction('data', 'context', body) as InlineFunction, sync: false };
    }
    return { fn: new Function('data', 'context', body) as InlineFunction, sync: true };
  } catch (error) {
    throw new ConfigError([{ path, message: `inline code does not compile: ${(error as Error).message}` }]);
  }
}
