import { cloneData } from '../../util/clone.js';
import { deleteField, getField, isObject, setField } from '../../util/field-path.js';
import { defineOwn } from '../../util/safe-keys.js';
import { compileExpression } from '../expressions.js';
import { builtin, fieldList, fieldPath, pathRecord, z } from './define.js';

type Rec = Record<string, unknown>;
/** Builtin transforms never mutate their input: copy mode relies on it. */
const copyOf = (data: unknown): Rec => (isObject(data) ? cloneData(data) : {});

function convert(value: unknown, to: string): unknown {
  if (value === undefined || value === null) return value;
  switch (to) {
    case 'number': {
      const n = Number(value);
      if (Number.isNaN(n)) throw new Error(`cannot convert ${JSON.stringify(value)} to number`);
      return n;
    }
    case 'integer': {
      const n = Number.parseInt(String(value), 10);
      if (Number.isNaN(n)) throw new Error(`cannot convert ${JSON.stringify(value)} to integer`);
      return n;
    }
    case 'string':
      return String(value);
    case 'boolean':
      if (typeof value === 'string') return ['true', '1', 'yes', 'y'].includes(value.trim().toLowerCase());
      return Boolean(value);
    default: {
      const d = new Date(value as string);
      if (Number.isNaN(d.getTime())) throw new Error(`cannot convert ${JSON.stringify(value)} to date`);
      return d.toISOString();
    }
  }
}

function flattenInto(out: Rec, value: unknown, prefix: string, sep: string): void {
  if (isObject(value) && Object.keys(value).length > 0) {
    for (const [k, v] of Object.entries(value)) flattenInto(out, v, prefix ? `${prefix}${sep}${k}` : k, sep);
  } else defineOwn(out, prefix, cloneData(value));
}

const stringCase = (name: string, description: string, fn: (s: string) => string) =>
  builtin({
    name,
    roles: ['transform'],
    description,
    params: z.object({ fields: fieldList }),
    create:
      ({ fields }) =>
      (data) => {
        const out = copyOf(data);
        for (const f of fields) {
          const v = getField(out, f);
          if (typeof v === 'string') setField(out, f, fn(v));
        }
        return out;
      },
  });

export const transformBuiltins = [
  ...builtin({
    name: 'identity',
    roles: ['transform'],
    description: 'Returns the record unchanged.',
    params: z.object({}),
    create: () => (data) => data,
  }),
  ...builtin({
    name: 'rename_fields',
    aliases: ['field_mapping', 'FieldMapper'],
    roles: ['transform'],
    description: 'Renames fields: {mapping: {from: to}} (dotted paths allowed).',
    params: z.object({ mapping: pathRecord(fieldPath) }),
    create:
      ({ mapping }) =>
      (data) => {
        const out = copyOf(data);
        for (const [from, to] of Object.entries(mapping)) {
          const v = getField(out, from);
          if (v === undefined) continue;
          deleteField(out, from);
          setField(out, to, v);
        }
        return out;
      },
  }),
  ...builtin({
    name: 'select_fields',
    aliases: ['FieldSelector'],
    roles: ['transform'],
    description: 'Keeps only the listed fields.',
    params: z.object({ fields: fieldList }),
    create:
      ({ fields }) =>
      (data) => {
        const out: Rec = {};
        for (const f of fields) {
          const v = getField(data, f);
          if (v !== undefined) setField(out, f, cloneData(v));
        }
        return out;
      },
  }),
  ...builtin({
    name: 'drop_fields',
    aliases: ['FieldRemover'],
    roles: ['transform'],
    description: 'Removes the listed fields.',
    params: z.object({ fields: fieldList }),
    create:
      ({ fields }) =>
      (data) => {
        const out = copyOf(data);
        for (const f of fields) deleteField(out, f);
        return out;
      },
  }),
  ...builtin({
    name: 'set_defaults',
    aliases: ['DefaultValues'],
    roles: ['transform'],
    description: 'Sets fields that are missing or null.',
    params: z.object({ defaults: pathRecord(z.unknown()) }),
    create:
      ({ defaults }) =>
      (data) => {
        const out = copyOf(data);
        for (const [f, v] of Object.entries(defaults))
          if (getField(out, f) == null) setField(out, f, cloneData(v));
        return out;
      },
  }),
  ...builtin({
    name: 'set_fields',
    roles: ['transform'],
    description: 'Sets fields to fixed values.',
    params: z.object({ values: pathRecord(z.unknown()) }),
    create:
      ({ values }) =>
      (data) => {
        const out = copyOf(data);
        for (const [f, v] of Object.entries(values)) setField(out, f, cloneData(v));
        return out;
      },
  }),
  ...builtin({
    name: 'convert_types',
    aliases: ['TypeConverter'],
    roles: ['transform'],
    description: 'Converts fields: {fields: {x: number|integer|string|boolean|date}}.',
    params: z.object({
      fields: pathRecord(z.enum(['number', 'integer', 'string', 'boolean', 'date'])),
    }),
    create:
      ({ fields }) =>
      (data) => {
        const out = copyOf(data);
        for (const [f, to] of Object.entries(fields)) {
          const v = getField(out, f);
          if (v !== undefined) setField(out, f, convert(v, to));
        }
        return out;
      },
  }),
  ...builtin({
    name: 'flatten',
    roles: ['transform'],
    description: 'Flattens nested objects into `a.b` keys (separator configurable).',
    params: z.object({ separator: z.string().default('.') }),
    create:
      ({ separator }) =>
      (data) => {
        const out: Rec = {};
        flattenInto(out, data, '', separator);
        return out;
      },
  }),
  ...builtin({
    name: 'nest',
    aliases: ['unflatten'],
    roles: ['transform'],
    description: 'Turns `a.b` keys into nested objects (separator configurable).',
    params: z.object({ separator: z.string().default('.') }),
    create:
      ({ separator }) =>
      (data) => {
        const out: Rec = {};
        if (!isObject(data)) return data;
        for (const [k, v] of Object.entries(data)) setField(out, k.split(separator).join('.'), cloneData(v));
        return out;
      },
  }),
  ...builtin({
    name: 'merge',
    roles: ['transform'],
    description: 'Merges fixed data into the record (record keys win unless override: true).',
    params: z.object({ data: z.record(z.string(), z.unknown()), override: z.boolean().default(true) }),
    create:
      ({ data: extra, override }) =>
      (data) =>
        override ? { ...copyOf(data), ...cloneData(extra) } : { ...cloneData(extra), ...copyOf(data) },
  }),
  ...builtin({
    name: 'add_timestamp',
    roles: ['transform'],
    description: 'Sets a field to the current time (ISO 8601).',
    params: z.object({ field: fieldPath.default('timestamp') }),
    create:
      ({ field }) =>
      (data) => {
        const out = copyOf(data);
        setField(out, field, new Date().toISOString());
        return out;
      },
  }),
  ...stringCase('uppercase', 'Upper-cases string fields.', (s) => s.toUpperCase()),
  ...stringCase('lowercase', 'Lower-cases string fields.', (s) => s.toLowerCase()),
  ...stringCase('trim', 'Trims whitespace of string fields.', (s) => s.trim()),
  ...builtin({
    name: 'copy_field',
    roles: ['transform'],
    description: 'Copies a field to another path.',
    params: z.object({ from: fieldPath, to: fieldPath }),
    create:
      ({ from, to }) =>
      (data) => {
        const out = copyOf(data);
        setField(out, to, cloneData(getField(out, from)));
        return out;
      },
  }),
  ...builtin({
    name: 'compute',
    roles: ['transform'],
    description: 'Sets a field to a CEL expression over the record: {field, expression}.',
    params: z.object({ field: fieldPath, expression: z.string().min(1) }),
    create: ({ field, expression }) => {
      const compiled = compileExpression(expression, 'cel', 'params.expression');
      return (data, context) => {
        const out = copyOf(data);
        setField(out, field, compiled.evaluate(data, context));
        return out;
      };
    },
  }),
];
