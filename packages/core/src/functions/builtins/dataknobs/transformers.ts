/**
 * dataknobs-fsm's `transformers` library (functions/library/transformers.py) under its own names and
 * parameters, with its behaviour: which fields are copied, kept or skipped, and the messages of its
 * TransformErrors. Inputs are never mutated (copy mode relies on it).
 */
import { cloneData } from '../../../util/clone.js';
import { isObject } from '../../../util/field-path.js';
import { forbiddenSegment } from '../../../util/safe-keys.js';
import { z } from '../define.js';
import { own, put, pyStr, pyTruthy, pyType, type Rec } from './python.js';
import { type Callable, fieldMap, key, member } from './shared.js';
import { nested, nestedRef } from './validators.js';

/** A dotted field path from a config; no part may walk a prototype. */
const path = () =>
  z
    .string()
    .min(1)
    .refine((p) => forbiddenSegment(p) === undefined, {
      error: (i) => `"${String(i.input)}" is not allowed as a field path`,
    });

/** A record as a dict; dataknobs' transformers index their input and fail on anything else. */
function dict(data: unknown, what: string): Rec {
  if (isObject(data)) return data;
  throw new Error(`${what}: expected a dict record, got ${pyType(data)}`);
}

/** FieldMapper's `_get_nested`: walks dicts, None when a step is missing. */
function getNested(data: Rec, dotted: string): unknown {
  let value: unknown = data;
  for (const part of dotted.split('.')) {
    if (isObject(value) && Object.hasOwn(value, part)) value = value[part];
    else return null;
  }
  return value;
}

/** FieldMapper's `_set_nested`: creates missing dicts; a non-dict in the way is an error, as in Python. */
function setNested(target: Rec, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let current = target;
  for (const part of parts.slice(0, -1)) {
    if (!Object.hasOwn(current, part)) put(current, part, {});
    const next = current[part];
    if (!isObject(next))
      throw new Error(`cannot set "${dotted}": "${part}" is a ${pyType(next)}, not a dict`);
    current = next;
  }
  put(current, parts[parts.length - 1] as string, value);
}

const fieldMapper =
  (p: {
    field_map: Record<string, string>;
    drop_unmapped?: boolean | undefined;
    copy_unmapped?: boolean | undefined;
  }): Callable =>
  (input) => {
    const data = dict(input, 'FieldMapper');
    const result: Rec = {};
    for (const [source, target] of Object.entries(p.field_map)) {
      // dataknobs checks `source in data` (a top-level key) before walking a dotted path.
      if (!Object.hasOwn(data, source)) continue;
      const value = source.includes('.') ? getNested(data, source) : data[source];
      if (target.includes('.')) setNested(result, target, cloneData(value));
      else put(result, target, cloneData(value));
    }
    if (!(p.drop_unmapped ?? false) && (p.copy_unmapped ?? true)) {
      for (const [k, v] of Object.entries(data))
        if (!Object.hasOwn(p.field_map, k) && !Object.hasOwn(result, k)) put(result, k, cloneData(v));
    }
    return result;
  };

const capitalize = (s: string) => (s ? s[0]?.toUpperCase() + s.slice(1).toLowerCase() : s);
const NORMALIZATIONS: Record<string, (s: string) => string> = {
  lowercase: (s) => s.toLowerCase(),
  uppercase: (s) => s.toUpperCase(),
  trim: (s) => s.trim(),
  snake_case: (s) =>
    s
      .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .toLowerCase(),
  camel_case: (s) => {
    const parts = s.replace(/-/g, '_').split('_');
    return (parts[0] ?? '').toLowerCase() + parts.slice(1).map(capitalize).join('');
  },
  pascal_case: (s) => s.replace(/-/g, '_').split('_').map(capitalize).join(''),
  remove_special: (s) => s.replace(/[^a-zA-Z0-9\s]/g, ''),
  normalize_spaces: (s) => s.replace(/\s+/g, ' ').trim(),
};

const normalizer = (p: {
  normalizations: Record<string, string | string[]>;
  fields?: string[] | null | undefined;
}): Callable => {
  const steps = (field: string) => {
    const spec = own(p.normalizations, field) ?? own(p.normalizations, '*') ?? [];
    // An unknown normalization leaves the value as it is (dataknobs' else branch).
    return (typeof spec === 'string' ? [spec] : (spec as string[])).map(
      // Own keys only: `toString` or `constructor` is no normalization either.
      (n) =>
        Object.hasOwn(NORMALIZATIONS, n) ? (NORMALIZATIONS[n] as (s: string) => string) : (s: string) => s,
    );
  };
  return (input) => {
    const result = cloneData(dict(input, 'ValueNormalizer'));
    for (const field of p.fields && p.fields.length > 0 ? p.fields : Object.keys(result)) {
      const value = own(result, field);
      if (typeof value !== 'string') continue;
      put(
        result,
        field,
        steps(field).reduce((v, step) => step(v), value),
      );
    }
    return result;
  };
};

class ConversionError extends Error {
  constructor(readonly kind: 'ValueError' | 'TypeError' | 'JSONDecodeError') {
    super(kind);
  }
}

const INT = /^\s*[-+]?\d(_?\d)*\s*$/;
const FLOAT = /^\s*[-+]?((\d(_?\d)*)?\.?\d(_?\d)*([eE][-+]?\d+)?|inf(inity)?|nan)\s*$/i;

/** Python's `int()`, `float()`, `str()`, `bool`, `list()`, `dict()`, `json.loads`, `fromisoformat`. */
function convert(value: unknown, to: string): unknown {
  if (value === null) return null;
  switch (to) {
    case 'int':
      if (typeof value === 'boolean') return Number(value);
      if (typeof value === 'number') {
        if (!Number.isFinite(value)) throw new ConversionError('ValueError');
        return Math.trunc(value);
      }
      if (typeof value === 'string') {
        if (!INT.test(value)) throw new ConversionError('ValueError');
        return Number.parseInt(value.replace(/_/g, ''), 10);
      }
      throw new ConversionError('TypeError');
    case 'float':
      if (typeof value === 'boolean' || typeof value === 'number') return Number(value);
      if (typeof value === 'string') {
        if (!FLOAT.test(value)) throw new ConversionError('ValueError');
        const t = value.trim().toLowerCase().replace(/_/g, '');
        if (t.endsWith('nan')) return Number.NaN;
        if (t.includes('inf')) return t.startsWith('-') ? -Infinity : Infinity;
        return Number(t);
      }
      throw new ConversionError('TypeError');
    case 'bool':
      return typeof value === 'string'
        ? ['true', 'yes', '1', 'on'].includes(value.toLowerCase())
        : pyTruthy(value);
    case 'list':
      if (typeof value === 'string') return [...value];
      if (Array.isArray(value)) return cloneData(value);
      if (isObject(value)) return Object.keys(value);
      throw new ConversionError('TypeError');
    case 'dict':
      if (isObject(value)) return cloneData(value);
      if (Array.isArray(value)) {
        const out: Rec = {};
        for (const pair of value) {
          if (!Array.isArray(pair) || pair.length !== 2) throw new ConversionError('ValueError');
          put(out, pyStr(pair[0]), cloneData(pair[1]));
        }
        return out;
      }
      throw new ConversionError(typeof value === 'string' ? 'ValueError' : 'TypeError');
    case 'json':
      if (typeof value !== 'string') throw new ConversionError('TypeError');
      try {
        return JSON.parse(value);
      } catch {
        throw new ConversionError('JSONDecodeError');
      }
    case 'datetime':
      // A Python datetime has no JSON form; the ISO string is kept once it parses.
      if (typeof value !== 'string') throw new ConversionError('TypeError');
      if (Number.isNaN(Date.parse(value))) throw new ConversionError('ValueError');
      return value;
    default:
      // `str`, and any name dataknobs does not know (it falls back to str).
      return pyStr(value);
  }
}

const typeConverter =
  (p: { conversions: Record<string, string>; strict?: boolean | undefined }): Callable =>
  (input) => {
    const result = cloneData(dict(input, 'TypeConverter'));
    for (const [field, to] of Object.entries(p.conversions)) {
      if (!Object.hasOwn(result, field)) continue;
      try {
        put(result, field, convert(result[field], to));
      } catch (error) {
        if (!(error instanceof ConversionError)) throw error;
        // Not strict: the value stays as it was (dataknobs' behaviour).
        if (p.strict) throw new Error(`Failed to convert field '${field}' to ${to} (${error.kind})`);
      }
    }
    return result;
  };

export const enricher =
  (p: { enrichments: Rec; overwrite?: boolean | undefined }): Callable =>
  (input) => {
    const result = cloneData(dict(input, 'DataEnricher'));
    for (const [field, value] of Object.entries(p.enrichments))
      if (p.overwrite || !Object.hasOwn(result, field)) put(result, field, cloneData(value));
    return result;
  };

const fieldFilter = (p: {
  include?: string[] | null | undefined;
  exclude?: string[] | null | undefined;
}): Callable => {
  if (p.include?.length && p.exclude?.length) throw new Error('Cannot specify both include and exclude');
  const include = p.include?.length ? new Set(p.include) : undefined;
  const exclude = p.exclude?.length ? new Set(p.exclude) : undefined;
  return (input) => {
    const data = dict(input, 'FieldFilter');
    const result: Rec = {};
    for (const [k, v] of Object.entries(data))
      if (include ? include.has(k) : !exclude?.has(k)) put(result, k, cloneData(v));
    return result;
  };
};

const replacer =
  (p: { replacements: Record<string, Rec>; default_replacements?: Rec | null | undefined }): Callable =>
  (input) => {
    const result = cloneData(dict(input, 'ValueReplacer'));
    for (const [field, value] of Object.entries(result)) {
      const table = (own(p.replacements, field) as Rec | undefined) ?? p.default_replacements ?? {};
      // `value in table` in Python: a dict or list value is unhashable and fails the record.
      if (typeof value === 'object' && value !== null)
        throw new Error(`ValueReplacer: unhashable type: '${pyType(value)}' in field '${field}'`);
      // Config keys are strings, so only string values can match one.
      if (typeof value === 'string' && Object.hasOwn(table, value))
        put(result, field, cloneData(table[value]));
    }
    return result;
  };

function flattenArray(items: unknown[], depth: number): unknown[] {
  const out: unknown[] = [];
  for (const item of items) {
    if (!Array.isArray(item)) out.push(item);
    else if (depth === 0) out.push(...flattenArray(item, 0));
    else if (depth > 1) out.push(...flattenArray(item, depth - 1));
    else out.push(...item);
  }
  return out;
}

const arrayFlattener =
  (p: { fields: string[]; depth?: number | undefined }): Callable =>
  (input) => {
    const result = cloneData(dict(input, 'ArrayFlattener'));
    for (const field of p.fields) {
      const value = own(result, field);
      if (Array.isArray(value)) put(result, field, flattenArray(value, p.depth ?? 1));
    }
    return result;
  };

const splitter =
  (p: { split_field: string; output_field?: string | undefined }): Callable =>
  (input) => {
    const data = dict(input, 'DataSplitter');
    if (!Object.hasOwn(data, p.split_field)) throw new Error(`Split field '${p.split_field}' not found`);
    const values = data[p.split_field];
    if (!Array.isArray(values)) throw new Error('Split field must be a list');
    const base: Rec = {};
    for (const [k, v] of Object.entries(data)) if (k !== p.split_field) put(base, k, v);
    const records = values.map((value) => {
      const record = cloneData(base);
      put(record, p.split_field, cloneData(value));
      return record;
    });
    const out: Rec = {};
    put(out, p.output_field ?? 'records', records);
    return out;
  };

const chain = (p: { transformers: z.output<typeof nestedRef>[] }): Callable => {
  const steps = p.transformers.map((ref) => nested.resolve(ref));
  return (data, context) => steps.reduce((d, step) => step(d, context), data);
};

const roles = ['transform'] as const;
const fieldMapParams = { drop_unmapped: z.boolean().optional(), copy_unmapped: z.boolean().optional() };
const conversion = z.string().min(1);

export const dataknobsTransformers = [
  member({
    module: 'transformers',
    cls: 'FieldMapper',
    factory: 'map_fields',
    roles,
    description:
      'Renames fields {field_map: {source: target}} (dotted targets nest); unmapped fields are copied unless drop_unmapped.',
    classParams: z.strictObject({ field_map: z.record(path(), path()), ...fieldMapParams }),
    factoryParams: z.strictObject({ mapping: z.record(path(), path()), ...fieldMapParams }),
    fromFactory: ({ mapping, ...rest }) => ({ field_map: mapping, ...rest }),
    create: fieldMapper,
  }),
  member({
    module: 'transformers',
    cls: 'ValueNormalizer',
    factory: 'normalize',
    roles,
    description:
      'Normalizes string fields {normalizations: {field | "*": lowercase|uppercase|trim|snake_case|camel_case|pascal_case|remove_special|normalize_spaces}}.',
    classParams: z.strictObject({
      normalizations: fieldMap(z.union([z.string(), z.array(z.string())])),
      fields: z.array(key()).nullable().optional(),
    }),
    factoryParams: fieldMap(z.union([z.string(), z.array(z.string())])),
    fromFactory: (p) => ({ normalizations: p }),
    create: normalizer,
  }),
  member({
    module: 'transformers',
    cls: 'TypeConverter',
    factory: 'convert_types',
    roles,
    description:
      'Converts fields {conversions: {field: str|int|float|bool|list|dict|json|datetime}}; a failure keeps the value unless strict.',
    classParams: z.strictObject({ conversions: fieldMap(conversion), strict: z.boolean().optional() }),
    factoryParams: fieldMap(conversion),
    fromFactory: (p) => ({ conversions: p }),
    create: typeConverter,
  }),
  member({
    module: 'transformers',
    cls: 'DataEnricher',
    factory: 'enrich',
    roles,
    description: 'Adds fixed fields {enrichments: {field: value}}; present fields are kept unless overwrite.',
    classParams: z.strictObject({ enrichments: fieldMap(z.unknown()), overwrite: z.boolean().optional() }),
    factoryParams: fieldMap(z.unknown()),
    fromFactory: (p) => ({ enrichments: p }),
    create: enricher,
  }),
  member({
    module: 'transformers',
    cls: 'FieldFilter',
    factory: 'filter_fields',
    roles,
    description:
      'Keeps the include list, or drops the exclude list, of top-level fields: {include | exclude}.',
    classParams: z.strictObject({
      include: z.array(key()).nullable().optional(),
      exclude: z.array(key()).nullable().optional(),
    }),
    factoryParams: z.strictObject({
      include: z.array(key()).nullable().optional(),
      exclude: z.array(key()).nullable().optional(),
    }),
    fromFactory: (p) => p,
    create: fieldFilter,
  }),
  member({
    module: 'transformers',
    cls: 'ValueReplacer',
    factory: 'replace_values',
    roles,
    description:
      'Replaces values {replacements: {field: {old: new}}, default_replacements: {old: new}} (string values).',
    classParams: z.strictObject({
      replacements: fieldMap(z.record(z.string(), z.unknown())),
      default_replacements: z.record(z.string(), z.unknown()).nullable().optional(),
    }),
    factoryParams: fieldMap(z.record(z.string(), z.unknown())),
    fromFactory: (p) => ({ replacements: p }),
    create: replacer,
  }),
  member({
    module: 'transformers',
    cls: 'ArrayFlattener',
    factory: 'flatten',
    roles,
    description: 'Flattens nested lists in {fields} by depth levels (0: fully; default 1).',
    classParams: z.strictObject({ fields: z.array(key()).min(1), depth: z.number().int().min(0).optional() }),
    factoryParams: z.strictObject({
      fields: z.array(key()).min(1),
      depth: z.number().int().min(0).optional(),
    }),
    fromFactory: (p) => p,
    create: arrayFlattener,
  }),
  member({
    module: 'transformers',
    cls: 'DataSplitter',
    factory: 'split_on',
    roles,
    description:
      'Turns a list field into {output_field: [one record per item]}: {split_field, output_field}.',
    classParams: z.strictObject({ split_field: key(), output_field: key().optional() }),
    factoryParams: z.strictObject({ field: key(), output: key().optional() }),
    fromFactory: (p) => ({ split_field: p.field, output_field: p.output }),
    create: splitter,
  }),
  member({
    module: 'transformers',
    cls: 'ChainTransformer',
    factory: 'chain',
    roles,
    description: 'Runs transformers given as [{name, params}] in sequence: {transformers}.',
    classParams: z.strictObject({ transformers: z.array(nestedRef).min(1) }),
    factoryParams: z.strictObject({ transformers: z.array(nestedRef).min(1) }),
    fromFactory: (p) => p,
    create: chain,
  }),
];
