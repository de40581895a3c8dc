/**
 * dataknobs-fsm's `validators` library (functions/library/validators.py) under its own names and
 * parameters. A failing check returns `{valid: false}` with the message dataknobs' FSMValidationError
 * carries; the engine decides what a failed validator does (see docs/migrating-from-dataknobs.md).
 */
import { isObject } from '../../../util/field-path.js';
import { compileJsonSchema } from '../../json-schema.js';
import { z } from '../define.js';
import {
  isInstance,
  isNumeric,
  own,
  pyClassName,
  pyEquals,
  pyLen,
  pyMatch,
  pyRegex,
  pyStr,
  pyType,
  type Rec,
  TYPE_NAMES,
} from './python.js';
import { type Callable, fieldMap, invalid, key, member } from './shared.js';

const typeName = z.enum(TYPE_NAMES);
const bound = z.strictObject({ min: z.number().optional(), max: z.number().optional() });
const lengthSpec = z.strictObject({
  min: z.number().int().optional(),
  max: z.number().int().optional(),
  exact: z.number().int().optional(),
});
const fields = z.array(key()).min(1);

/** Runs `check` on a dict record; dataknobs' validators index the record and fail on anything else. */
const onDict =
  (check: (data: Rec) => string[]): Callable =>
  (data) => {
    if (!isObject(data)) return invalid(`Expected dict, got ${pyType(data)}`);
    const errors = check(data);
    return errors.length === 0 ? true : invalid(errors.join('; '));
  };

const requiredFields = (p: { fields: string[]; allow_none?: boolean | undefined }): Callable => {
  const allowNone = p.allow_none ?? false;
  return (data) => {
    if (!isObject(data)) return invalid(`Expected dict, got ${pyType(data)}`);
    const missing = p.fields.filter((f) => !Object.hasOwn(data, f));
    if (missing.length > 0) return invalid(`Missing required fields: ${missing.join(', ')}`);
    const none = allowNone ? [] : p.fields.filter((f) => data[f] === null);
    return none.length > 0 ? invalid(`Fields cannot be None: ${none.join(', ')}`) : true;
  };
};

/**
 * SchemaValidator builds a pydantic model from `{field: type}`: every listed field is required and of
 * that type (pydantic's lax mode: numeric strings pass as int/float, an int passes as float). A JSON
 * Schema (`type`/`properties` at the top) is checked as one, as our `schema` builtin does.
 */
function schemaCheck(schema: Rec): Callable {
  if (Object.hasOwn(schema, 'properties') || Object.hasOwn(schema, 'type')) {
    const compiled = compileJsonSchema(schema, 'params.schema');
    return (data) => {
      const issues = compiled(data);
      return issues === null || issues.length === 0 ? true : { valid: false, errors: issues };
    };
  }
  const spec = Object.entries(schema).map(([field, type]) => {
    const name = Array.isArray(type) ? type[0] : type;
    const parsed = typeName.safeParse(name);
    if (!parsed.success) throw new Error(`schema.${field}: unknown type ${JSON.stringify(name)}`);
    return [field, pyClassName(parsed.data)] as const;
  });
  const lax = (value: unknown, cls: string): string | undefined => {
    switch (cls) {
      case 'int':
        if (typeof value === 'number' && Number.isInteger(value)) return undefined;
        if (typeof value === 'string' && /^\s*[-+]?\d+\s*$/.test(value)) return undefined;
        if (typeof value === 'boolean') return undefined;
        return 'Input should be a valid integer';
      case 'float':
        if (typeof value === 'number' || typeof value === 'boolean') return undefined;
        if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)))
          return undefined;
        return 'Input should be a valid number';
      case 'str':
        return typeof value === 'string' ? undefined : 'Input should be a valid string';
      case 'bool':
        if (typeof value === 'boolean' || value === 0 || value === 1) return undefined;
        if (typeof value === 'string' && /^(true|false|yes|no|on|off|[01]|t|f|y|n)$/i.test(value))
          return undefined;
        return 'Input should be a valid boolean';
      case 'list':
      case 'tuple':
        return Array.isArray(value) ? undefined : 'Input should be a valid list';
      case 'dict':
        return isObject(value) ? undefined : 'Input should be a valid dictionary';
      default:
        return value === null ? undefined : 'Input should be None';
    }
  };
  return onDict((data) => {
    const errors: string[] = [];
    for (const [field, cls] of spec) {
      if (!Object.hasOwn(data, field)) errors.push(`${field}: Field required`);
      else {
        const message = lax(data[field], cls);
        if (message) errors.push(`${field}: ${message}`);
      }
    }
    return errors.length === 0 ? [] : [`Schema validation failed: ${errors.join('; ')}`];
  });
}

const rangeCheck = (ranges: Record<string, z.output<typeof bound>>): Callable =>
  onDict((data) => {
    const errors: string[] = [];
    for (const [field, spec] of Object.entries(ranges)) {
      if (!Object.hasOwn(data, field)) continue;
      const value = data[field];
      if (!isNumeric(value)) {
        errors.push(`${field}: Expected numeric value, got ${pyType(value)}`);
        continue;
      }
      const n = Number(value);
      if (spec.min !== undefined && n < spec.min)
        errors.push(`${field}: Value ${pyStr(value)} is below minimum ${pyStr(spec.min)}`);
      if (spec.max !== undefined && n > spec.max)
        errors.push(`${field}: Value ${pyStr(value)} is above maximum ${pyStr(spec.max)}`);
    }
    return errors;
  });

const patternCheck = (patterns: Record<string, string>, flags = 0): Callable => {
  const compiled = Object.entries(patterns).map(([field, p]) => [field, pyRegex(p, flags)] as const);
  return onDict((data) => {
    const errors: string[] = [];
    for (const [field, re] of compiled) {
      if (!Object.hasOwn(data, field)) continue;
      const value = data[field];
      if (typeof value !== 'string') errors.push(`${field}: Expected string value, got ${pyType(value)}`);
      else if (!pyMatch(re, value)) errors.push(`${field}: Value '${value}' does not match pattern`);
    }
    return errors;
  });
};

type TypeSpec = z.infer<typeof typeName> | Array<z.infer<typeof typeName>>;
const typeCheck = (types: Record<string, TypeSpec>, strict = false): Callable =>
  onDict((data) => {
    const errors: string[] = [];
    for (const [field, expected] of Object.entries(types)) {
      if (!Object.hasOwn(data, field)) continue;
      const value = data[field];
      if (Array.isArray(expected)) {
        if (!expected.some((t) => isInstance(value, t)))
          errors.push(
            `${field}: Expected one of [${expected.map(pyClassName).join(', ')}], got ${pyType(value)}`,
          );
      } else if (!isInstance(value, expected)) {
        errors.push(`${field}: Expected ${pyClassName(expected)}, got ${pyType(value)}`);
      }
    }
    if (strict) {
      const extra = Object.keys(data).filter((k) => !Object.hasOwn(types, k));
      if (extra.length > 0) errors.push(`Unexpected fields: ${extra.join(', ')}`);
    }
    return errors;
  });

const lengthCheck = (lengths: Record<string, z.output<typeof lengthSpec>>): Callable =>
  onDict((data) => {
    const errors: string[] = [];
    for (const [field, spec] of Object.entries(lengths)) {
      if (!Object.hasOwn(data, field)) continue;
      const length = pyLen(data[field]);
      if (length === undefined) {
        errors.push(`${field}: Value does not have a length`);
        continue;
      }
      if (spec.exact !== undefined && length !== spec.exact)
        errors.push(`${field}: Length ${length} does not match expected ${spec.exact}`);
      if (spec.min !== undefined && length < spec.min)
        errors.push(`${field}: Length ${length} is below minimum ${spec.min}`);
      if (spec.max !== undefined && length > spec.max)
        errors.push(`${field}: Length ${length} is above maximum ${spec.max}`);
    }
    return errors;
  });

const uniqueCheck = (p: { fields: string[]; key?: string | null | undefined }): Callable =>
  onDict((data) => {
    const errors: string[] = [];
    for (const field of p.fields) {
      if (!Object.hasOwn(data, field)) continue;
      const value = data[field];
      if (!Array.isArray(value)) {
        errors.push(`${field}: Expected collection, got ${pyType(value)}`);
        continue;
      }
      let values: unknown[] = value;
      if (p.key) {
        const k = p.key;
        const missing = value.find((item) => !isObject(item) || !Object.hasOwn(item, k));
        if (missing !== undefined) {
          errors.push(`${field}: Cannot extract key '${k}': '${k}'`);
          continue;
        }
        values = value.map((item) => own(item as Rec, k));
      }
      const seen: unknown[] = [];
      const duplicates: string[] = [];
      for (const v of values) {
        if (seen.some((s) => pyEquals(s, v))) {
          const shown = pyStr(v);
          if (!duplicates.includes(shown)) duplicates.push(shown);
        } else seen.push(v);
      }
      if (duplicates.length > 0) errors.push(`${field}: Duplicate values found: ${duplicates.join(', ')}`);
    }
    return errors;
  });

const dependsOn = (deps: Record<string, string | string[]>): Callable =>
  onDict((data) => {
    const errors: string[] = [];
    for (const [field, needs] of Object.entries(deps)) {
      if (!Object.hasOwn(data, field)) continue;
      const missing = (Array.isArray(needs) ? needs : [needs]).filter((d) => !Object.hasOwn(data, d));
      if (missing.length > 0) errors.push(`Field '${field}' requires: ${missing.join(', ')}`);
    }
    return errors;
  });

/** A nested function reference inside params: `{name, params}` (CompositeValidator, ChainTransformer). */
export const nestedRef = z.strictObject({
  type: z.literal('builtin').optional(),
  name: z.string().min(1),
  params: z.record(z.string(), z.unknown()).optional(),
});
export type NestedRef = z.output<typeof nestedRef>;
/** Resolves a nested reference to a builtin of the library (set by index.ts, which knows them all). */
export const nested: { resolve: (ref: NestedRef) => Callable } = {
  resolve: () => {
    throw new Error('nested references are not available');
  },
};

const messageOf = (outcome: unknown): string | undefined => {
  if (outcome === true || outcome === undefined) return undefined;
  if (isObject(outcome) && outcome.valid === true) return undefined;
  if (isObject(outcome) && Array.isArray(outcome.errors))
    return outcome.errors.map((e) => (isObject(e) ? String(e.message) : String(e))).join('; ');
  return 'validation failed';
};

const composite = (p: { validators: NestedRef[]; stop_on_first_error?: boolean | undefined }): Callable => {
  const checks = p.validators.map((ref) => nested.resolve(ref));
  return (data, context) => {
    const errors: string[] = [];
    for (const check of checks) {
      const message = messageOf(check(data, context));
      if (message === undefined) continue;
      if (p.stop_on_first_error) return invalid(message);
      errors.push(message);
    }
    return errors.length === 0 ? true : invalid(errors.join('; '));
  };
};

const roles = ['validator'] as const;

export const dataknobsValidators = [
  member({
    module: 'validators',
    cls: 'RequiredFieldsValidator',
    factory: 'required_fields',
    roles,
    description: 'Fields are present (top-level keys) and not None unless allow_none: {fields, allow_none}.',
    classParams: z.strictObject({ fields, allow_none: z.boolean().optional() }),
    // required_fields(*fields): a config can only give the list as `fields`.
    factoryParams: z.strictObject({ fields, allow_none: z.boolean().optional() }),
    fromFactory: (p) => p,
    create: requiredFields,
  }),
  member({
    module: 'validators',
    cls: 'SchemaValidator',
    factory: 'schema',
    roles,
    description:
      'Every field of a {field: type} model is present and of its type (or a JSON Schema): {schema}.',
    classParams: z.strictObject({ schema: z.record(key(), z.unknown()) }),
    factoryParams: z.strictObject({ model: z.record(key(), z.unknown()) }),
    fromFactory: (p) => ({ schema: p.model }),
    create: (p) => schemaCheck(p.schema),
  }),
  member({
    module: 'validators',
    cls: 'RangeValidator',
    factory: 'range_check',
    roles,
    description: 'Numeric fields lie within {field: {min, max}} (absent fields pass).',
    classParams: z.strictObject({ field_ranges: fieldMap(bound) }),
    factoryParams: fieldMap(bound),
    fromFactory: (p) => ({ field_ranges: p }),
    create: (p) => rangeCheck(p.field_ranges),
  }),
  member({
    module: 'validators',
    cls: 'PatternValidator',
    factory: 'pattern',
    roles,
    description: 'String fields match {field: regex} from their start (re.match); absent fields pass.',
    classParams: z.strictObject({ field_patterns: fieldMap(z.string()), flags: z.number().int().optional() }),
    factoryParams: fieldMap(z.string()),
    fromFactory: (p) => ({ field_patterns: p }),
    create: (p) => patternCheck(p.field_patterns, p.flags),
  }),
  member({
    module: 'validators',
    cls: 'TypeValidator',
    factory: 'type_check',
    roles,
    description:
      'Fields are instances of {field: type | [types]} (Python type names); strict rejects extras.',
    classParams: z.strictObject({
      field_types: fieldMap(z.union([typeName, z.array(typeName).min(1)])),
      strict: z.boolean().optional(),
    }),
    factoryParams: fieldMap(z.union([typeName, z.array(typeName).min(1)])),
    fromFactory: (p) => ({ field_types: p }),
    create: (p) => typeCheck(p.field_types, p.strict),
  }),
  member({
    module: 'validators',
    cls: 'LengthValidator',
    factory: 'length',
    roles,
    description: 'Strings, lists and dicts have lengths within {field: {min, max, exact}}.',
    classParams: z.strictObject({ field_lengths: fieldMap(lengthSpec) }),
    factoryParams: fieldMap(lengthSpec),
    fromFactory: (p) => ({ field_lengths: p }),
    create: (p) => lengthCheck(p.field_lengths),
  }),
  member({
    module: 'validators',
    cls: 'UniqueValidator',
    factory: 'unique',
    roles,
    description: 'List fields hold no duplicates (of item[key] when key is given): {fields, key}.',
    classParams: z.strictObject({ fields, key: key().nullable().optional() }),
    factoryParams: z.strictObject({ fields, key: key().nullable().optional() }),
    fromFactory: (p) => p,
    create: uniqueCheck,
  }),
  member({
    module: 'validators',
    cls: 'DependencyValidator',
    factory: 'depends_on',
    roles,
    description: 'When a field is present, the fields it depends on are too: {field: dep | [deps]}.',
    classParams: z.strictObject({ dependencies: fieldMap(z.union([key(), z.array(key())])) }),
    factoryParams: fieldMap(z.union([key(), z.array(key())])),
    fromFactory: (p) => ({ dependencies: p }),
    create: (p) => dependsOn(p.dependencies),
  }),
  member({
    module: 'validators',
    cls: 'CompositeValidator',
    roles,
    description:
      'Runs validators given as [{name, params}] and joins their messages: {validators, stop_on_first_error}.',
    classParams: z.strictObject({
      validators: z.array(nestedRef).min(1),
      stop_on_first_error: z.boolean().optional(),
    }),
    create: composite,
  }),
  member({
    module: 'validators',
    cls: 'build_record_validator',
    roles: ['validator', 'condition'],
    description:
      'A gate from a friendly schema {field: {required, type, min, max, pattern} | true}: true or false.',
    classParams: z.strictObject({ spec: z.record(key(), z.unknown()) }),
    create: (p) => friendlyGate(p.spec),
  }),
];

/** build_record_validator's friendly schema: a plain boolean gate (no messages), as dataknobs' predicate. */
function friendlyGate(spec: Rec): Callable {
  const checks = Object.entries(spec).map(([field, c]) => {
    if (c === true) return (data: Rec) => Object.hasOwn(data, field);
    if (!isObject(c)) return () => true;
    const type = typeof c.type === 'string' ? typeName.safeParse(c.type) : undefined;
    const re = typeof c.pattern === 'string' ? pyRegex(c.pattern) : undefined;
    const min = typeof c.min === 'number' ? c.min : undefined;
    const max = typeof c.max === 'number' ? c.max : undefined;
    return (data: Rec) => {
      if (!Object.hasOwn(data, field)) return !c.required;
      const v = data[field];
      if (type?.success && !isInstance(v, type.data)) return false;
      if (Object.hasOwn(c, 'min') && (!isNumeric(v) || (min !== undefined && Number(v) < min))) return false;
      if (Object.hasOwn(c, 'max') && (!isNumeric(v) || (max !== undefined && Number(v) > max))) return false;
      return !(re && !pyMatch(re, pyStr(v)));
    };
  });
  return (data) => isObject(data) && checks.every((check) => check(data));
}
