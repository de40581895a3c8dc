import { getField, isObject } from '../../util/field-path.js';
import { compileJsonSchema } from '../json-schema.js';
import { builtin, fieldList, fieldPath, pathRecord, z } from './define.js';

type Issue = { path: string; message: string };
const result = (errors: Issue[]) => (errors.length === 0 ? true : { valid: false, errors });
const jsType = (v: unknown) =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v;
const typeMatches = (v: unknown, type: string) =>
  type === 'number'
    ? typeof v === 'number' && !Number.isNaN(v)
    : type === 'integer'
      ? Number.isInteger(v)
      : jsType(v) === type;
const typeName = z.enum(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);

const friendlyField = z.object({
  required: z.boolean().optional(),
  type: typeName.optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  pattern: z.string().optional(),
  enum: z.array(z.unknown()).optional(),
});

/** Checks one field against a "friendly schema" entry: {required, type, min, max, pattern, enum}. */
function checkFriendly(
  field: string,
  rule: z.output<typeof friendlyField>,
  value: unknown,
  errors: Issue[],
): void {
  const path = `/${field.replaceAll('.', '/')}`;
  if (value === undefined || value === null) {
    if (rule.required) errors.push({ path, message: 'is required' });
    return;
  }
  if (rule.type && !typeMatches(value, rule.type))
    errors.push({ path, message: `must be ${rule.type}, got ${jsType(value)}` });
  const size =
    typeof value === 'number'
      ? value
      : typeof value === 'string' || Array.isArray(value)
        ? value.length
        : undefined;
  if (size !== undefined && rule.min !== undefined && size < rule.min)
    errors.push({ path, message: `must be at least ${rule.min}` });
  if (size !== undefined && rule.max !== undefined && size > rule.max)
    errors.push({ path, message: `must be at most ${rule.max}` });
  if (rule.pattern !== undefined && !new RegExp(rule.pattern).test(String(value))) {
    errors.push({ path, message: `must match ${rule.pattern}` });
  }
  if (rule.enum && !rule.enum.includes(value))
    errors.push({ path, message: `must be one of ${JSON.stringify(rule.enum)}` });
}

export const validatorBuiltins = [
  ...builtin({
    name: 'required_fields',
    aliases: ['RequiredFieldsValidator'],
    roles: ['validator'],
    description: 'Every listed field (dotted paths allowed) is present and not null.',
    params: z.object({ fields: fieldList }),
    create:
      ({ fields }) =>
      (data) =>
        result(
          fields
            .filter((f) => getField(data, f) == null)
            .map((f) => ({ path: `/${f.replaceAll('.', '/')}`, message: 'is required' })),
        ),
  }),
  ...builtin({
    name: 'schema',
    aliases: ['SchemaValidator', 'json_schema'],
    roles: ['validator'],
    description: 'Validates the record against a JSON Schema (ajv).',
    params: z.object({ schema: z.record(z.string(), z.unknown()) }),
    create: ({ schema }) => {
      const check = compileJsonSchema(schema, 'params.schema');
      return (data) => result(check(data) ?? []);
    },
  }),
  ...builtin({
    name: 'range',
    aliases: ['RangeValidator'],
    roles: ['validator'],
    description: 'A numeric field lies within [min, max].',
    params: z.object({ field: fieldPath, min: z.number().optional(), max: z.number().optional() }),
    create:
      ({ field, min, max }) =>
      (data) => {
        const v = getField(data, field);
        const path = `/${field}`;
        if (typeof v !== 'number') return result([{ path, message: `must be a number, got ${jsType(v)}` }]);
        if (min !== undefined && v < min) return result([{ path, message: `must be >= ${min}` }]);
        if (max !== undefined && v > max) return result([{ path, message: `must be <= ${max}` }]);
        return true;
      },
  }),
  ...builtin({
    name: 'pattern',
    aliases: ['PatternValidator'],
    roles: ['validator'],
    description: 'A string field matches a regular expression.',
    params: z.object({ field: fieldPath, pattern: z.string() }),
    create: ({ field, pattern }) => {
      const re = new RegExp(pattern);
      return (data) => {
        const v = getField(data, field);
        return typeof v === 'string' && re.test(v)
          ? true
          : result([{ path: `/${field}`, message: `must match ${pattern}` }]);
      };
    },
  }),
  ...builtin({
    name: 'type_check',
    aliases: ['TypeValidator'],
    roles: ['validator'],
    description: 'Fields have the given JSON type.',
    params: z
      .object({ field: fieldPath.optional(), fields: fieldList.optional(), type: typeName })
      .refine((p) => p.field || p.fields, 'give field or fields'),
    create: ({ field, fields, type }) => {
      const names = fields ?? [field as string];
      return (data) =>
        result(
          names
            .filter((f) => !typeMatches(getField(data, f), type))
            .map((f) => ({ path: `/${f}`, message: `must be ${type}, got ${jsType(getField(data, f))}` })),
        );
    },
  }),
  ...builtin({
    name: 'length',
    aliases: ['LengthValidator'],
    roles: ['validator'],
    description: 'A string or array field has a length within [min, max].',
    params: z.object({
      field: fieldPath,
      min: z.number().int().optional(),
      max: z.number().int().optional(),
    }),
    create:
      ({ field, min, max }) =>
      (data) => {
        const errors: Issue[] = [];
        checkFriendly(
          field,
          { required: true, ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) },
          getField(data, field),
          errors,
        );
        return result(errors);
      },
  }),
  ...builtin({
    name: 'friendly_schema',
    aliases: ['FriendlySchemaValidator'],
    roles: ['validator'],
    description: 'A compact schema: {field: {required, type, min, max, pattern, enum}}.',
    params: z.object({ schema: pathRecord(friendlyField) }),
    create:
      ({ schema }) =>
      (data) => {
        const errors: Issue[] = [];
        if (!isObject(data)) return result([{ path: '/', message: 'must be an object' }]);
        for (const [field, rule] of Object.entries(schema))
          checkFriendly(field, rule, getField(data, field), errors);
        return result(errors);
      },
  }),
  ...builtin({
    name: 'not_empty',
    roles: ['validator', 'condition'],
    description: 'The record (or the listed fields) are not empty.',
    params: z.object({ fields: fieldList.optional() }),
    create:
      ({ fields }) =>
      (data) => {
        const empty = (v: unknown) =>
          v == null ||
          v === '' ||
          (Array.isArray(v) && v.length === 0) ||
          (isObject(v) && Object.keys(v).length === 0);
        if (!fields) return empty(data) ? result([{ path: '/', message: 'is empty' }]) : true;
        return result(
          fields.filter((f) => empty(getField(data, f))).map((f) => ({ path: `/${f}`, message: 'is empty' })),
        );
      },
  }),
];
