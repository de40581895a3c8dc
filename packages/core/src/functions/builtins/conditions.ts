import { getField } from '../../util/field-path.js';
import { builtin, fieldPath, z } from './define.js';

const compare = (name: string, test: (a: number, b: number) => boolean, words: string) =>
  builtin({
    name,
    roles: ['condition'],
    description: `The field is a number ${words} the value.`,
    params: z.object({ field: fieldPath, value: z.number() }),
    create:
      ({ field, value }) =>
      (data) => {
        const v = getField(data, field);
        return typeof v === 'number' && test(v, value);
      },
  });

export const conditionBuiltins = [
  ...builtin({
    name: 'field_equals',
    roles: ['condition'],
    description: 'The field equals the value (strict equality).',
    params: z.object({ field: fieldPath, value: z.unknown() }),
    create:
      ({ field, value }) =>
      (data) =>
        getField(data, field) === value,
  }),
  ...builtin({
    name: 'field_exists',
    roles: ['condition'],
    description: 'The field is present and not null.',
    params: z.object({ field: fieldPath }),
    create:
      ({ field }) =>
      (data) =>
        getField(data, field) != null,
  }),
  ...builtin({
    name: 'field_in',
    roles: ['condition'],
    description: 'The field is one of the values.',
    params: z.object({ field: fieldPath, values: z.array(z.unknown()) }),
    create:
      ({ field, values }) =>
      (data) =>
        values.includes(getField(data, field)),
  }),
  ...compare('field_gt', (a, b) => a > b, 'greater than'),
  ...compare('field_gte', (a, b) => a >= b, 'greater than or equal to'),
  ...compare('field_lt', (a, b) => a < b, 'less than'),
  ...compare('field_lte', (a, b) => a <= b, 'less than or equal to'),
  ...builtin({
    name: 'always',
    roles: ['condition'],
    description: 'Always holds.',
    params: z.object({}),
    create: () => () => true,
  }),
  ...builtin({
    name: 'never',
    roles: ['condition'],
    description: 'Never holds.',
    params: z.object({}),
    create: () => () => false,
  }),
  ...builtin({
    name: 'has_error',
    roles: ['condition'],
    description: 'A pushed sub-network failed (context.lastError is set); optionally of a given code.',
    params: z.object({ code: z.string().optional() }),
    create:
      ({ code }) =>
      (_data, context) =>
        context.lastError !== undefined && (code === undefined || context.lastError.code === code),
  }),
];
