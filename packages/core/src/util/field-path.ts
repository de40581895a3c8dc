import { DataError } from '../errors/errors.js';
import { isForbiddenKey } from './safe-keys.js';

const hasOwn = Object.hasOwn;

/**
 * Reads `a.b.c` from a record; undefined when any step is missing. Own properties only: a path never
 * reaches inherited members (`constructor`, `toString`, `__proto__`) of the record's objects.
 */
export function getField(data: unknown, path: string): unknown {
  if (path.indexOf('.') === -1) return isObject(data) && hasOwn(data, path) ? data[path] : undefined;
  let current: unknown = data;
  for (const key of path.split('.')) {
    if (!isObject(current) || !hasOwn(current, key)) return undefined;
    current = current[key];
  }
  return current;
}

function forbidden(path: string, key: string): DataError {
  return new DataError(
    `field path "${path}" contains "${key}"; __proto__, constructor and prototype are not allowed in field paths`,
  );
}

/**
 * Writes `a.b.c` into a record in place, creating intermediate objects (also where an inherited member
 * of that name exists). A `__proto__`, `constructor` or `prototype` segment throws a DataError
 * (DATA_INVALID): such a path comes from hostile data, and writing it would change prototypes.
 */
export function setField(data: Record<string, unknown>, path: string, value: unknown): void {
  if (path.indexOf('.') === -1) {
    if (isForbiddenKey(path)) throw forbidden(path, path);
    data[path] = value;
    return;
  }
  const keys = path.split('.');
  for (const key of keys) if (isForbiddenKey(key)) throw forbidden(path, key);
  let current = data;
  const last = keys.length - 1;
  for (let i = 0; i < last; i++) {
    const key = keys[i] as string;
    const next = hasOwn(current, key) ? current[key] : undefined;
    if (isObject(next)) current = next;
    else {
      const created: Record<string, unknown> = {};
      current[key] = created;
      current = created;
    }
  }
  current[keys[last] as string] = value;
}

/** Removes `a.b.c` from a record in place (own properties only); a missing step is no error. */
export function deleteField(data: unknown, path: string): void {
  const keys = path.split('.');
  let current: unknown = data;
  const last = keys.length - 1;
  for (let i = 0; i < last; i++) {
    const key = keys[i] as string;
    if (!isObject(current) || !hasOwn(current, key)) return;
    current = current[key];
  }
  const key = keys[last] as string;
  if (isObject(current) && hasOwn(current, key)) delete current[key];
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An object JSON would make: its prototype is `Object.prototype` or null (not an array, a Date, a class instance). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
