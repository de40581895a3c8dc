import jsonata from 'jsonata';
import { createSequence, type Sequence } from './runtime.js';

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
