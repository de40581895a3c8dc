import jsonata from 'jsonata';
import { defineOwn } from '../../util/safe-keys.js';
import { createSequence, isFunctionValue, type Sequence } from './runtime.js';

/** A native function as the interpreter's environment holds it. */
interface NativeDefinition {
  _jsonata_function: true;
  implementation: (this: NativeFocus, ...args: unknown[]) => unknown;
  signature?: { validate(args: unknown[], context: unknown): unknown[] };
}

/** The `this` of a native function call. */
export interface NativeFocus {
  input: unknown;
  environment: undefined;
  options: undefined;
  createSequence: (...items: unknown[]) => Sequence;
}

/** Builtins whose implementation is synchronous, so a compiled expression may call them directly. */
const SYNC_NAMES = [
  'merge',
  'round',
  'string',
  'number',
  'exists',
  'lowercase',
  'uppercase',
  'substring',
  'substringBefore',
  'substringAfter',
  'sum',
  'count',
  'max',
  'min',
  'average',
  'lookup',
  'boolean',
  'not',
  'length',
  'trim',
  'abs',
  'floor',
  'ceil',
  'join',
  'keys',
  'append',
  'distinct',
  'reverse',
  'type',
  'contains',
] as const;

/**
 * jsonata's own builtin definitions (implementation + signature), so compiled calls run exactly the
 * interpreter's code. They are read through the interpreter's evaluate-entry hook, which it calls
 * synchronously before its first await; if a jsonata version stops doing that, the map stays empty
 * and every expression that calls a function falls back to the interpreter.
 */
function captureDefinitions(): ReadonlyMap<string, NativeDefinition> {
  const found = new Map<string, NativeDefinition>();
  const probe = jsonata('$');
  const hook = (_expr: unknown, _input: unknown, environment: { lookup(name: string): unknown }) => {
    for (const name of SYNC_NAMES) {
      const definition = environment.lookup(name) as Partial<NativeDefinition> | undefined;
      if (
        definition?._jsonata_function === true &&
        typeof definition.implementation === 'function' &&
        typeof definition.signature?.validate === 'function' &&
        // An async implementation would hand back a promise; only `$contains` is, and it is special-cased.
        (definition.implementation.constructor.name !== 'AsyncFunction' || name === 'contains')
      ) {
        found.set(name, definition as NativeDefinition);
      }
    }
  };
  (probe.assign as unknown as (name: symbol, value: unknown) => void).call(
    probe,
    Symbol.for('jsonata.__evaluate_entry'),
    hook,
  );
  probe.evaluate({}).then(
    () => undefined,
    // `$` over `{}` cannot fail; a failure would only mean a broken jsonata, which the tests show.
    (error: unknown) => {
      found.clear();
      throw error;
    },
  );
  return found;
}

const definitions = captureDefinitions();

export function nativeFunction(name: string): NativeDefinition | undefined {
  return definitions.get(name);
}

export function nativeFocus(input: unknown): NativeFocus {
  return {
    input,
    environment: undefined,
    options: undefined,
    createSequence: (...items: unknown[]) => {
      const sequence = createSequence();
      if (items.length === 1) sequence.push(items[0]);
      return sequence;
    },
  };
}

/** The interpreter's `$string` (used by `&`), called without signature checks as it does. */
export function stringOf(value: unknown): string | undefined {
  const string = definitions.get('string');
  if (!string) throw new Error('jsonata $string is unavailable');
  return string.implementation.call(SHARED_FOCUS, value) as string | undefined;
}

// `$string` never uses its focus; one shared object keeps `&` allocation-free.
const SHARED_FOCUS = nativeFocus(undefined);

/** Returned by a fast path that cannot decide a call exactly; the general path (signature + native) runs. */
export const GENERAL = Symbol('general path');

type FastPath = (args: readonly unknown[]) => unknown;

/** Half-to-even rounding of a finite number to an integer, as `$round` does it; never -0. */
function roundHalfEven(value: number): number {
  let result = Math.round(value);
  if (Math.abs(result - value) === 0.5 && Math.abs(result % 2) === 1) result -= 1;
  return Object.is(result, -0) ? 0 : result;
}

/**
 * Shortcuts for hot builtins whose arguments already have the signature's types, with results equal to
 * the native implementation's (the differential test compares them).
 */
const FAST_PATHS: Readonly<Record<string, FastPath>> = {
  // The native `$round` shifts the decimal point through strings (~1 µs). Multiplying by an exact power
  // of ten is within two ulps of that shift, so when the shifted value is not near .5 both round the
  // same way; dividing the integer back by the power of ten is correctly rounded like the string parse.
  round(args) {
    if (args.length < 1 || args.length > 2) return GENERAL;
    const [value, precision] = args;
    if (typeof value !== 'number' || !Number.isFinite(value)) return GENERAL;
    if (args.length === 1 || precision === 0) return roundHalfEven(value);
    if (typeof precision !== 'number' || !Number.isInteger(precision) || precision < 0 || precision > 15) {
      return GENERAL;
    }
    const scale = 10 ** precision;
    const shifted = value * scale;
    if (!(Math.abs(shifted) < 2 ** 52)) return GENERAL;
    const fraction = shifted - Math.floor(shifted);
    if (Math.abs(fraction - 0.5) <= Math.abs(shifted) * 1e-14) return GENERAL;
    const result = Math.round(shifted) / scale;
    return Object.is(result, -0) ? 0 : result;
  },
  // `<a<o>:o>` holds for an array of plain objects: call the native merge without the signature regex.
  merge(args) {
    const merge = definitions.get('merge');
    const [list] = args;
    if (!merge || args.length !== 1 || !Array.isArray(list)) return GENERAL;
    for (const item of list) {
      if (item === null || typeof item !== 'object' || Array.isArray(item) || isFunctionValue(item))
        return GENERAL;
    }
    // The native merge copies with `for…in` into `{}`: for records (own keys only, no inherited enumerable
    // ones) that is Object.keys, but an own `"__proto__"` key would be assigned through the setter and swap
    // the result's prototype. Define it as data instead; the result stays a plain (fast-mode) object.
    const result: Record<string, unknown> = {};
    for (const item of list as Record<string, unknown>[]) {
      for (const key of Object.keys(item)) defineOwn(result, key, item[key]);
    }
    return result;
  },
};

export function fastPath(name: string): FastPath | undefined {
  return Object.hasOwn(FAST_PATHS, name) ? FAST_PATHS[name] : undefined;
}
