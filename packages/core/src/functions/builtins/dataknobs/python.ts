/**
 * How Python sees a JSON value: its type name, `str()` and `repr()`, `isinstance` against the type names
 * a config can spell, truthiness. dataknobs-fsm's library builds its messages and checks on these, and
 * our aliases of it must say and decide the same.
 */
import { isObject } from '../../../util/field-path.js';

/** Writes an own data property, even for a key like `__proto__` that a record may carry. */
export { defineOwn as put } from '../../../util/safe-keys.js';

export type Rec = Record<string, unknown>;

/** Own property read; undefined when absent (Python's `key in data` is `hasOwn` here). */
export const own = (data: Rec, key: string): unknown => (Object.hasOwn(data, key) ? data[key] : undefined);

/** Python's `type(value).__name__` for a JSON value (integral numbers are `int`). */
export function pyType(value: unknown): string {
  if (value === null || value === undefined) return 'NoneType';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'string') return 'str';
  if (Array.isArray(value)) return 'list';
  return isObject(value) ? 'dict' : typeof value;
}

export function pyRepr(value: unknown): string {
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return pyStr(value);
}

/** Python's `str(value)`. */
export function pyStr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'nan';
    if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  if (isObject(value))
    return `{${Object.entries(value)
      .map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`)
      .join(', ')}}`;
  return String(value);
}

/** Python truthiness of a JSON value. */
export function pyTruthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (isObject(value)) return Object.keys(value).length > 0;
  return true;
}

/** Python type names (and the JSON names our builtins use) a config can give for an isinstance check. */
export const TYPE_NAMES = [
  'str',
  'string',
  'int',
  'integer',
  'float',
  'number',
  'bool',
  'boolean',
  'list',
  'array',
  'tuple',
  'dict',
  'object',
  'NoneType',
  'None',
  'null',
] as const;
export type TypeName = (typeof TYPE_NAMES)[number];

/** The Python class a type name stands for (as `__name__`). */
export const pyClassName = (name: TypeName): string =>
  (
    ({
      string: 'str',
      integer: 'int',
      number: 'float',
      boolean: 'bool',
      array: 'list',
      object: 'dict',
      None: 'NoneType',
      null: 'NoneType',
    }) as Partial<Record<TypeName, string>>
  )[name] ?? name;

/**
 * `isinstance(value, T)`. As in Python a bool is an int; a JSON number with a fraction is a float and an
 * integral one an int (JSON `1.0` reads as float in Python but cannot be told from `1` here).
 */
export function isInstance(value: unknown, name: TypeName): boolean {
  switch (pyClassName(name)) {
    case 'str':
      return typeof value === 'string';
    case 'int':
      return typeof value === 'boolean' || (typeof value === 'number' && Number.isInteger(value));
    case 'float':
      return typeof value === 'number' && !Number.isInteger(value);
    case 'bool':
      return typeof value === 'boolean';
    case 'list':
    case 'tuple':
      return Array.isArray(value);
    case 'dict':
      return isObject(value);
    default:
      return value === null;
  }
}

/** `isinstance(value, (int, float))`: numbers and bools. */
export const isNumeric = (value: unknown): value is number | boolean =>
  typeof value === 'number' || typeof value === 'boolean';

/** Python's `len()` when the value has one. */
export function pyLen(value: unknown): number | undefined {
  if (typeof value === 'string') return [...value].length;
  if (Array.isArray(value)) return value.length;
  if (isObject(value)) return Object.keys(value).length;
  return undefined;
}

/**
 * A Python regex for `re.match` (anchored at the start only). Named groups `(?P<n>...)` and `(?P=n)` are
 * rewritten to the JavaScript spelling; `flags` are Python's `re` bit flags.
 */
export function pyRegex(pattern: string, flags = 0): RegExp {
  const source = pattern.replace(/\(\?P</g, '(?<').replace(/\(\?P=(\w+)\)/g, '\\k<$1>');
  let js = 'y';
  if (flags & 2) js += 'i';
  if (flags & 8) js += 'm';
  if (flags & 16) js += 's';
  return new RegExp(source, js);
}

/** `re.match(pattern, s)`: a match at position 0. */
export function pyMatch(re: RegExp, s: string): boolean {
  re.lastIndex = 0;
  return re.test(s);
}

/** Equality as Python's `==` on JSON values (1 == 1.0 == True). */
export function pyEquals(a: unknown, b: unknown): boolean {
  const n = (v: unknown) => (typeof v === 'boolean' ? Number(v) : v);
  if ((typeof a === 'number' || typeof a === 'boolean') && (typeof b === 'number' || typeof b === 'boolean'))
    return n(a) === n(b);
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((v, i) => pyEquals(v, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && pyEquals(a[k], b[k]))
    );
  }
  return a === b || (a == null && b == null);
}
