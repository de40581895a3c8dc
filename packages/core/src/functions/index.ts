export { createFunctionResolver, listBuiltins } from './resolver.js';
export { coreBuiltins } from './builtins/index.js';
export { compileExpression } from './expressions.js';
export type { CompiledExpression, ExpressionOptions } from './expressions.js';
export { compileJsonSchema } from './json-schema.js';
export { builtin as defineBuiltin } from './builtins/define.js';
