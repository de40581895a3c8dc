/**
 * The value semantics of JSONata 2.x that compiled expressions share with its interpreter: sequences,
 * field lookup, boolean casting, deep equality and the operators' type rules and error objects.
 * Written to behave exactly like `jsonata`'s evaluator; the differential test holds them together.
 */

/** JSONata's internal sequence: an array flagged `sequence` (enumerable, like the interpreter's). */
export type Sequence = unknown[] & {
  sequence: true;
  keepSingleton?: boolean;
  outerWrapper?: boolean;
  tupleStream?: boolean;
  cons?: boolean;
};

/** A JSONata error as the interpreter throws it: a plain object with a code and a message. */
export interface JsonataError {
  code: string;
  message?: string | undefined;
  position?: number | undefined;
  token?: string | undefined;
  value?: unknown;
  value2?: unknown;
  index?: number | undefined;
  stack?: string | undefined;
  [field: string]: unknown;
}

export function createSequence(): Sequence {
  const sequence = [] as unknown as Sequence;
  sequence.sequence = true;
  return sequence;
}

export function sequenceOf(item: unknown): Sequence {
  const sequence = createSequence();
  sequence.push(item);
  return sequence;
}

export function isSequence(value: unknown): value is Sequence {
  return Array.isArray(value) && (value as Partial<Sequence>).sequence === true;
}

/** What `evaluate` does to every node's result: empty sequence → undefined, singleton → its item. */
export function collapse(result: unknown): unknown {
  if (Array.isArray(result) && (result as Partial<Sequence>).sequence === true) {
    const sequence = result as Sequence;
    if (sequence.tupleStream) return sequence;
    if (sequence.length === 0) return undefined;
    if (sequence.length === 1) return sequence.keepSingleton ? sequence : sequence[0];
  }
  return result;
}

export function isFunctionValue(value: unknown): boolean {
  if (typeof value === 'function') return true;
  if (value === null || typeof value !== 'object') return false;
  const flags = value as { _jsonata_function?: unknown; _jsonata_lambda?: unknown };
  return flags._jsonata_function === true || flags._jsonata_lambda === true;
}

/** `isNumeric`: a non-NaN number; an infinite one is error D1001. */
export function isNumeric(value: unknown): value is number {
  if (typeof value !== 'number' || Number.isNaN(value)) return false;
  if (!Number.isFinite(value)) throw jsonataError('D1001', { value });
  return true;
}

export function jsonataError(code: string, fields: Omit<JsonataError, 'code'> = {}): JsonataError {
  return { code, stack: new Error().stack, ...fields };
}

/** Field lookup on one item; arrays map over their items (own keys only, never the prototype). */
export function lookup(input: unknown, key: string): unknown {
  if (Array.isArray(input)) {
    const result = createSequence();
    for (let i = 0; i < input.length; i++) {
      const item = lookup(input[i], key);
      if (item === undefined) continue;
      if (Array.isArray(item)) for (const value of item) result.push(value);
      else result.push(item);
    }
    return result;
  }
  if (input !== null && typeof input === 'object' && Object.hasOwn(input, key) && !isFunctionValue(input)) {
    return (input as Record<string, unknown>)[key];
  }
  return undefined;
}

/** `$boolean`: JSONata's effective boolean value (undefined stays undefined). */
export function toBoolean(value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) {
    if (value.length === 1) return toBoolean(value[0]);
    // Every item is cast (no short cut): an infinite number further on still throws, as in the interpreter.
    let any = false;
    for (const item of value) if (toBoolean(item)) any = true;
    return any;
  }
  if (typeof value === 'string') return value.length > 0;
  if (isNumeric(value)) return value !== 0;
  if (value !== null && typeof value === 'object' && !isFunctionValue(value)) {
    return Object.keys(value).length > 0;
  }
  return value === true;
}

export function isDeepEqual(lhs: unknown, rhs: unknown): boolean {
  if (lhs === rhs) return true;
  if (typeof lhs !== 'object' || typeof rhs !== 'object' || lhs === null || rhs === null) return false;
  if (Array.isArray(lhs) && Array.isArray(rhs)) {
    if (lhs.length !== rhs.length) return false;
    for (let i = 0; i < lhs.length; i++) if (!isDeepEqual(lhs[i], rhs[i])) return false;
    return true;
  }
  // Like the interpreter: an array and an object compare by their own property names.
  const lkeys = Object.getOwnPropertyNames(lhs).sort();
  const rkeys = Object.getOwnPropertyNames(rhs).sort();
  if (lkeys.length !== rkeys.length) return false;
  for (let i = 0; i < lkeys.length; i++) if (lkeys[i] !== rkeys[i]) return false;
  for (const key of lkeys) {
    if (!isDeepEqual((lhs as Record<string, unknown>)[key], (rhs as Record<string, unknown>)[key])) {
      return false;
    }
  }
  return true;
}

export function arithmetic(lhs: unknown, rhs: unknown, op: string): number | undefined {
  if (lhs !== undefined && !isNumeric(lhs)) throw jsonataError('T2001', { value: lhs });
  if (rhs !== undefined && !isNumeric(rhs)) throw jsonataError('T2002', { value: rhs });
  if (lhs === undefined || rhs === undefined) return undefined;
  const l = lhs as number;
  const r = rhs as number;
  switch (op) {
    case '+':
      return l + r;
    case '-':
      return l - r;
    case '*':
      return l * r;
    case '/':
      return l / r;
    default:
      return l % r;
  }
}

export function compare(lhs: unknown, rhs: unknown, op: string): boolean | undefined {
  const ltype = typeof lhs;
  const rtype = typeof rhs;
  const lcomparable = ltype === 'undefined' || ltype === 'string' || ltype === 'number';
  const rcomparable = rtype === 'undefined' || rtype === 'string' || rtype === 'number';
  if (!lcomparable || !rcomparable) {
    throw jsonataError('T2010', { value: !(ltype === 'string' || ltype === 'number') ? lhs : rhs });
  }
  if (ltype === 'undefined' || rtype === 'undefined') return undefined;
  if (ltype !== rtype) throw jsonataError('T2009', { value: lhs, value2: rhs });
  const l = lhs as string | number;
  const r = rhs as string | number;
  switch (op) {
    case '<':
      return l < r;
    case '<=':
      return l <= r;
    case '>':
      return l > r;
    default:
      return l >= r;
  }
}

export function includes(lhs: unknown, rhs: unknown): boolean {
  if (lhs === undefined || rhs === undefined) return false;
  if (!Array.isArray(rhs)) return rhs === lhs;
  for (let i = 0; i < rhs.length; i++) if (rhs[i] === lhs) return true;
  return false;
}

/** `fn.append`: concatenation of values and arrays, as the array constructor uses it. */
export function appendInto(target: unknown[], value: unknown): void {
  if (Array.isArray(value)) for (const item of value) target.push(item);
  else target.push(value);
}

// The interpreter's message templates for the errors compiled code can raise.
const TEMPLATES: Readonly<Record<string, string>> = {
  T0410: 'Argument {{index}} of function {{token}} does not match function signature',
  T0411: 'Context value is not a compatible type with argument {{index}} of function {{token}}',
  T0412: 'Argument {{index}} of function {{token}} must be an array of {{type}}',
  D1001: 'Number out of range: {{value}}',
  D1002: 'Cannot negate a non-numeric value: {{value}}',
  T1003: 'Key in object structure must evaluate to a string; got: {{value}}',
  D1009: 'Multiple key definitions evaluate to same key: {{value}}',
  D1013: 'Object property names starting with _jsonata_ are reserved for internal use: {{value}}',
  T2001: 'The left side of the {{token}} operator must evaluate to a number',
  T2002: 'The right side of the {{token}} operator must evaluate to a number',
  T2009:
    'The values {{value}} and {{value2}} either side of operator {{token}} must be of the same data type',
  T2010: 'The expressions either side of operator {{token}} must evaluate to numeric or string values',
  D3001: 'Attempting to invoke string function on Infinity or NaN',
  D3030: 'Unable to cast value to a number: {{value}}',
};

/** Fills `message` from the code's template the way the interpreter does before it rethrows. */
export function populateMessage(error: unknown): void {
  if (error === null || typeof error !== 'object') return;
  const e = error as JsonataError;
  const template =
    typeof e.code === 'string' && Object.hasOwn(TEMPLATES, e.code) ? TEMPLATES[e.code] : undefined;
  if (template === undefined) return;
  e.message = template
    .replace(/\{\{\{([^}]+)}}}/g, (_m, field: string) => String(e[field]))
    .replace(/\{\{([^}]+)}}/g, (_m, field: string) => JSON.stringify(e[field]) as string);
}
