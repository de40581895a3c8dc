import { defineOwn } from '../../util/safe-keys.js';
import { fastPath, GENERAL, nativeFocus, nativeFunction, stringOf } from './builtins.js';
import {
  appendInto,
  arithmetic,
  collapse,
  compare,
  createSequence,
  includes,
  isDeepEqual,
  isNumeric,
  isSequence,
  type JsonataError,
  jsonataError,
  lookup,
  populateMessage,
  type Sequence,
  sequenceOf,
  toBoolean,
} from './runtime.js';

/** A node of `jsonata(code).ast()`; only the fields the compiler reads are typed. */
export interface AstNode {
  type: string;
  value?: unknown;
  position?: number;
  steps?: AstNode[];
  lhs?: AstNode | Array<[AstNode, AstNode]>;
  rhs?: AstNode;
  expression?: AstNode;
  expressions?: AstNode[];
  arguments?: AstNode[];
  procedure?: AstNode;
  condition?: AstNode;
  then?: AstNode;
  else?: AstNode;
  consarray?: boolean;
}

/** The variables an expression sees besides the input (`$params`, `$state`, `$context`). */
export interface JsonataBindings {
  params?: unknown;
  state?: unknown;
  context?: unknown;
}

/** A compiled expression: same result as `jsonata(code).evaluate(data, bindings)`, synchronously. */
export type CompiledJsonata = (data: unknown, bindings: JsonataBindings) => unknown;

interface Env {
  root: unknown;
  params: unknown;
  state: unknown;
  context: unknown;
  /** `$now()`/`$millis()` time, fixed at the first call in one evaluation like the interpreter's. */
  now: number | undefined;
}

type Fn = (input: unknown, env: Env) => unknown;

class Decline extends Error {}

const decline = (why: string): never => {
  throw new Decline(why);
};

// Per node type, the AST fields the compiler understands; any other field (predicates, grouping,
// focus or index bindings, keepArray...) means a construct it does not cover.
const KNOWN_FIELDS: Readonly<Record<string, ReadonlySet<string>>> = {
  string: new Set(['type', 'value', 'position']),
  number: new Set(['type', 'value', 'position']),
  value: new Set(['type', 'value', 'position']),
  name: new Set(['type', 'value', 'position']),
  variable: new Set(['type', 'value', 'position']),
  path: new Set(['type', 'steps', 'position']),
  binary: new Set(['type', 'value', 'position', 'lhs', 'rhs']),
  unary: new Set(['type', 'value', 'position', 'expression', 'expressions', 'lhs', 'consarray']),
  condition: new Set(['type', 'position', 'condition', 'then', 'else']),
  block: new Set(['type', 'position', 'expressions']),
  function: new Set(['type', 'value', 'position', 'arguments', 'procedure']),
};

// `$context` members a compiled path may read: plain data, never the functions on the context.
const CONTEXT_FIELDS = new Set(['state', 'network', 'executionId', 'batch', 'lastError', 'variables']);

function checkFields(node: AstNode): void {
  const known = Object.hasOwn(KNOWN_FIELDS, node.type) ? KNOWN_FIELDS[node.type] : undefined;
  if (!known) decline(`node type ${node.type}`);
  for (const key of Object.keys(node)) {
    // The parser leaves some fields present but undefined (a call's `name`).
    if (!known?.has(key) && (node as unknown as Record<string, unknown>)[key] !== undefined) {
      decline(`${node.type}.${key}`);
    }
  }
}

/**
 * Compiles a JSONata AST into a synchronous closure, or returns the reason it declines: the whole
 * expression then stays with the interpreter, so no construct ever runs with forked semantics.
 */
export function compileJsonataAst(ast: AstNode): CompiledJsonata | { declined: string } {
  let body: Fn;
  try {
    body = compileNode(ast);
  } catch (error) {
    if (error instanceof Decline) return { declined: error.message };
    throw error;
  }
  // One environment per compiled expression, as evaluation is synchronous; a fresh one only in the
  // unlikely case of re-entry (a getter or toJSON in the data that evaluates the same expression).
  const shared: Env = {
    root: undefined,
    params: undefined,
    state: undefined,
    context: undefined,
    now: undefined,
  };
  let busy = false;
  return (data, bindings) => {
    const reentered = busy;
    const env: Env = reentered
      ? { root: undefined, params: undefined, state: undefined, context: undefined, now: undefined }
      : shared;
    busy = true;
    env.root = data;
    env.params = bindings.params;
    env.state = bindings.state;
    env.context = bindings.context;
    env.now = undefined;
    let input = data;
    if (Array.isArray(data) && !isSequence(data)) {
      // The interpreter wraps an array input so that it is treated as a single input.
      const wrapper = sequenceOf(data);
      wrapper.outerWrapper = true;
      input = wrapper;
    }
    try {
      return body(input, env);
    } catch (error) {
      populateMessage(error);
      throw error;
    } finally {
      env.root = env.params = env.state = env.context = undefined;
      busy = reentered;
    }
  };
}

function compileNode(node: AstNode): Fn {
  checkFields(node);
  switch (node.type) {
    case 'string':
    case 'number':
    case 'value': {
      const value = node.value;
      return () => value;
    }
    case 'variable':
      return compileVariable(node, false);
    case 'path':
      return compilePath(node);
    case 'binary':
      return compileBinary(node);
    case 'unary':
      return compileUnary(node);
    case 'condition': {
      const condition = compileNode(need(node.condition));
      const then = compileNode(need(node.then));
      const otherwise = node.else === undefined ? undefined : compileNode(node.else);
      return (input, env) => {
        if (toBoolean(condition(input, env))) return then(input, env);
        return otherwise === undefined ? undefined : otherwise(input, env);
      };
    }
    case 'block': {
      const expressions = (node.expressions ?? []).map(compileNode);
      return (input, env) => {
        let result: unknown;
        for (const expression of expressions) result = expression(input, env);
        return result;
      };
    }
    case 'function':
      return compileCall(node);
    default:
      return decline(`node type ${node.type}`);
  }
}

function need(node: AstNode | undefined): AstNode {
  return node ?? decline('incomplete node');
}

function compileVariable(node: AstNode, contextAllowed: boolean): Fn {
  switch (node.value) {
    case '':
      return (input) => collapse(isSequence(input) && input.outerWrapper ? input[0] : input);
    case '$':
      return (_input, env) => collapse(env.root);
    case 'params':
      return (_input, env) => collapse(env.params);
    case 'state':
      return (_input, env) => collapse(env.state);
    case 'context':
      if (!contextAllowed) decline('$context outside a path to one of its data fields');
      return (_input, env) => env.context;
    default:
      return decline(`variable $${String(node.value)}`);
  }
}

function compilePath(node: AstNode): Fn {
  const steps = node.steps ?? [];
  if (steps.length === 0) decline('empty path');
  const compiled: Fn[] = steps.map((step, index) => {
    checkFields(step);
    if (step.type === 'name') {
      if (typeof step.value !== 'string') decline('name step');
      const name = step.value as string;
      return (input) => collapse(lookup(input, name));
    }
    if (index === 0 && step.type === 'variable') {
      const isContext = step.value === 'context';
      const second = steps[1];
      const safe =
        isContext &&
        second?.type === 'name' &&
        typeof second.value === 'string' &&
        CONTEXT_FIELDS.has(second.value);
      return compileVariable(step, safe);
    }
    return decline(`path step ${step.type}`);
  });
  const absolute = steps[0]?.type === 'variable';
  return (input, env) => evaluatePath(compiled, absolute, input, env);
}

/**
 * `evaluatePath` for steps without predicates: each step runs over every item of the previous
 * step's sequence, results flatten one level, and a lone array from the last step stays as it is.
 * While the path sees single non-array items it runs without building any sequence.
 */
function evaluatePath(steps: readonly Fn[], absolute: boolean, input: unknown, env: Env): unknown {
  let items: unknown[] | undefined = Array.isArray(input) && !absolute ? input : undefined;
  let single = input;
  const last = steps.length - 1;
  for (let i = 0; i <= last; i++) {
    const step = steps[i] as Fn;
    if (items === undefined) {
      const result = step(single, env);
      if (result === undefined) return undefined;
      if (Array.isArray(result) && !(result as Partial<Sequence>).cons) {
        if (i === last && !isSequence(result)) return result;
        const flat = createSequence();
        for (const value of result) flat.push(value);
        if (flat.length === 0) return undefined;
        if (i === last) return collapse(flat);
        items = flat;
      } else {
        single = result;
      }
      continue;
    }
    const results = createSequence();
    for (const item of items) {
      const result = step(item, env);
      if (result !== undefined) results.push(result);
    }
    let next: unknown[];
    if (i === last && results.length === 1 && Array.isArray(results[0]) && !isSequence(results[0])) {
      next = results[0] as unknown[];
    } else {
      next = createSequence();
      for (const result of results) {
        if (!Array.isArray(result) || (result as Partial<Sequence>).cons) next.push(result);
        else for (const value of result) next.push(value);
      }
    }
    if (next.length === 0 || i === last) return collapse(next);
    items = next;
  }
  return single;
}

function compileBinary(node: AstNode): Fn {
  const op = node.value as string;
  const lhs = compileNode(need(node.lhs as AstNode | undefined));
  const rhs = compileNode(need(node.rhs));
  const position = node.position;
  const located = (error: unknown) => {
    if (error !== null && typeof error === 'object') Object.assign(error, { position, token: op });
    return error;
  };
  switch (op) {
    case 'and':
    case 'or': {
      const and = op === 'and';
      return (input, env) => {
        const l = lhs(input, env);
        try {
          const left = toBoolean(l) ?? false;
          if (and ? !left : left) return left;
          return toBoolean(rhs(input, env)) ?? false;
        } catch (error) {
          throw located(error);
        }
      };
    }
    case '+':
    case '-':
    case '*':
    case '/':
    case '%':
      return (input, env) => {
        const l = lhs(input, env);
        const r = rhs(input, env);
        try {
          return arithmetic(l, r, op);
        } catch (error) {
          throw located(error);
        }
      };
    case '=':
    case '!=': {
      const equal = op === '=';
      return (input, env) => {
        const l = lhs(input, env);
        const r = rhs(input, env);
        if (l === undefined || r === undefined) return false;
        return isDeepEqual(l, r) === equal;
      };
    }
    case '<':
    case '<=':
    case '>':
    case '>=':
      return (input, env) => {
        const l = lhs(input, env);
        const r = rhs(input, env);
        try {
          return compare(l, r, op);
        } catch (error) {
          throw located(error);
        }
      };
    case '&':
      if (!nativeFunction('string')) decline('$string unavailable');
      return (input, env) => {
        const l = lhs(input, env);
        const r = rhs(input, env);
        try {
          return (
            (l === undefined ? '' : (stringOf(l) as string)) +
            (r === undefined ? '' : (stringOf(r) as string))
          );
        } catch (error) {
          throw located(error);
        }
      };
    case 'in':
      return (input, env) => includes(lhs(input, env), rhs(input, env));
    default:
      return decline(`operator ${op}`);
  }
}

function compileUnary(node: AstNode): Fn {
  switch (node.value) {
    case '-': {
      const operand = compileNode(need(node.expression));
      const position = node.position;
      return (input, env) => {
        const value = operand(input, env);
        if (value === undefined) return undefined;
        if (isNumeric(value)) return -value;
        throw jsonataError('D1002', { position, token: '-', value });
      };
    }
    case '[': {
      const items = (node.expressions ?? []).map((item) => ({
        fn: compileNode(item),
        nested: item.value === '[',
      }));
      const cons = node.consarray === true;
      return (input, env) => {
        const result: unknown[] = [];
        for (const item of items) {
          const value = item.fn(input, env);
          if (value === undefined) continue;
          if (item.nested) result.push(value);
          else appendInto(result, value);
        }
        if (cons)
          Object.defineProperty(result, 'cons', { enumerable: false, configurable: false, value: true });
        return result;
      };
    }
    case '{':
      return compileObject(node);
    default:
      return decline(`unary ${String(node.value)}`);
  }
}

/** The object constructor: `evaluateGroupExpression` over a non-tuple input. */
function compileObject(node: AstNode): Fn {
  const pairs = (node.lhs ?? []) as Array<[AstNode, AstNode]>;
  if (!Array.isArray(pairs)) decline('object constructor');
  const keys = pairs.map((pair) => compileNode(pair[0]));
  const values = pairs.map((pair) => compileNode(pair[1]));
  const position = node.position;
  // Literal, distinct, unreserved keys over a single input item (the usual `{"k": v}`): the grouping
  // reduces to evaluating the values in the order Object.keys would list the keys.
  const literalKeys = pairs.map((pair) => (pair[0].type === 'string' ? pair[0].value : undefined));
  const plain =
    literalKeys.every((k) => typeof k === 'string' && k !== '_jsonata_lambda' && k !== '_jsonata_function') &&
    new Set(literalKeys).size === literalKeys.length;
  const order = plain
    ? Object.keys(Object.fromEntries(literalKeys.map((k, i) => [k, i]))).map((k) => literalKeys.indexOf(k))
    : [];
  return (input, env) => {
    if (plain && !Array.isArray(input)) {
      // A plain `{}` (V8 keeps it in fast mode, unlike a null-prototype object); keys are defined as data,
      // so a `"__proto__"` key never reaches the prototype setter.
      const result: Record<string, unknown> = {};
      for (const index of order) {
        const value = (values[index] as Fn)(input, env);
        if (value !== undefined) defineOwn(result, literalKeys[index] as string, value);
      }
      return result;
    }
    const items = Array.isArray(input) ? input : sequenceOf(input);
    // Like the interpreter (which pushes into the input array itself): an empty input still yields the literal.
    if (items.length === 0) items.push(undefined);
    const groups: Record<string, { data: unknown; index: number }> = Object.create(null);
    for (const item of items) {
      for (let index = 0; index < keys.length; index++) {
        const key = (keys[index] as Fn)(item, env);
        if (key === undefined) continue;
        if (typeof key !== 'string') throw jsonataError('T1003', { position, value: key });
        if (key === '_jsonata_lambda' || key === '_jsonata_function') {
          throw jsonataError('D1013', { position, value: key });
        }
        const group = groups[key];
        if (group === undefined) {
          groups[key] = { data: item, index };
        } else {
          if (group.index !== index) throw jsonataError('D1009', { position, value: key });
          group.data = appendData(group.data, item);
        }
      }
    }
    const result: Record<string, unknown> = {};
    for (const key of Object.keys(groups)) {
      const group = groups[key] as { data: unknown; index: number };
      const value = (values[group.index] as Fn)(group.data, env);
      if (value !== undefined) defineOwn(result, key, value);
    }
    return result;
  };
}

/** `fn.append(data, item)` as grouping uses it. */
function appendData(data: unknown, item: unknown): unknown {
  if (data === undefined) return item;
  if (item === undefined) return data;
  // `concat` in the interpreter: the result is a plain array, not a sequence.
  const target: unknown[] = Array.isArray(data) ? [...data] : [data];
  appendInto(target, item);
  return target;
}

// Native functions get their `this` from here: calls are synchronous and never nested inside each other.
const FOCUS = nativeFocus(undefined);

function compileCall(node: AstNode): Fn {
  const procedure = need(node.procedure);
  if (procedure.type !== 'variable' || typeof procedure.value !== 'string') decline('computed function');
  checkFields(procedure);
  const name = procedure.value as string;
  const args = (node.arguments ?? []).map(compileNode);
  const position = node.position;
  const located = (error: unknown) => {
    if (error !== null && typeof error === 'object') {
      const e = error as JsonataError;
      if (e.token === undefined) e.token = name;
      e.position = position;
    }
    return error;
  };
  if (name === 'now' || name === 'millis') {
    // Bound per expression by the interpreter: the evaluation's start time, as ISO text or millis.
    if (args.length > 0) decline(`$${name} with arguments`);
    const iso = name === 'now';
    return (_input, env) => {
      env.now ??= Date.now();
      return iso ? new Date(env.now).toISOString() : env.now;
    };
  }
  const native = nativeFunction(name);
  if (!native?.signature) return decline(`function $${name}`);
  const { implementation, signature } = native;
  const validate = (values: unknown[], input: unknown) => {
    try {
      return signature.validate(values, input);
    } catch (error) {
      throw located(error);
    }
  };
  if (name === 'contains') {
    // The interpreter's $contains is async (it may run a regex matcher); a literal string token is not.
    const token = node.arguments?.[1];
    if (token?.type !== 'string' || node.arguments?.length !== 2)
      decline('$contains without a literal string');
    const subject = args[0] as Fn;
    return (input, env) => {
      const str = subject(input, env);
      const validated = validate([str, token?.value], input);
      const [s, t] = validated as [string | undefined, string];
      return s === undefined ? undefined : s.indexOf(t) !== -1;
    };
  }
  const fast = fastPath(name);
  return (input, env) => {
    const values = new Array<unknown>(args.length);
    for (let i = 0; i < args.length; i++) values[i] = (args[i] as Fn)(input, env);
    if (fast !== undefined) {
      const result = fast(values);
      if (result !== GENERAL) return collapse(result);
    }
    const validated = validate(values, input);
    try {
      FOCUS.input = input;
      return collapse(implementation.apply(FOCUS, validated));
    } catch (error) {
      throw located(error);
    }
  };
}
