import { DataError } from '../errors/errors.js';

/** Records nested deeper than this are refused (DATA_INVALID) instead of overflowing the stack. */
export const MAX_DATA_DEPTH = 1000;

// `hasOwnProperty.call` inside for-in is a pattern V8 optimises (faster here than Object.hasOwn).
const ownKey = Object.prototype.hasOwnProperty;

function tooDeep(): DataError {
  return new DataError(`record nested deeper than ${MAX_DATA_DEPTH} levels (or it contains a cycle)`);
}

/** Copies an object or array; primitives are handled inline by the caller (no call per leaf). */
function copy(value: object, depth: number): unknown {
  if (depth > MAX_DATA_DEPTH) throw tooDeep();
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      out[i] = typeof item !== 'object' || item === null ? item : copy(item, depth + 1);
    }
    return out;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    const source = value as Record<string, unknown>;
    const out: Record<string, unknown> = proto === null ? Object.create(null) : {};
    // Own keys only; a `__proto__` key (JSON.parse makes it an own property) stays an inert own property.
    for (const key in source) {
      if (!ownKey.call(source, key)) continue;
      const item = source[key];
      const copied = typeof item !== 'object' || item === null ? item : copy(item, depth + 1);
      if (key === '__proto__') {
        Object.defineProperty(out, key, {
          value: copied,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else out[key] = copied;
    }
    return out;
  }
  if (value instanceof Date) return new Date(value.getTime());
  return value;
}

/**
 * Deep copy of record data for copy mode and push isolation. Plain objects, arrays and dates are
 * copied; other class instances (buffers, clients) are shared — they are not record data.
 * Much faster than structuredClone for the small JSON-like records FSMs carry.
 * Copies own enumerable keys only; throws a DataError (DATA_INVALID) for data nested deeper than
 * MAX_DATA_DEPTH (a cycle ends there too).
 */
export function cloneData<T>(value: T): T {
  return typeof value !== 'object' || value === null ? value : (copy(value, 0) as T);
}

/** `serialize` isolation: what survives a JSON round trip (as a remote sub-network would see it). */
export function serializeData<T>(value: T): T {
  if (value === undefined) return value;
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    // Too deep (RangeError), a cycle or a BigInt (TypeError): the record's data, not the engine, is at fault.
    throw new DataError(`record data cannot be serialized: ${(error as Error).message}`, { cause: error });
  }
  return JSON.parse(text) as T;
}
