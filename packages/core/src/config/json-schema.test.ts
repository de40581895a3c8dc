import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { describe, expect, test } from 'vitest';
import { fsmConfigJsonSchema } from './index.js';

const examples = fileURLToPath(new URL('../../../../examples/dataknobs/', import.meta.url));

const schemaFile = fileURLToPath(new URL('../../schema/fsm-config.schema.json', import.meta.url));
const generated = `${JSON.stringify(fsmConfigJsonSchema(), null, 2)}\n`;

describe('JSON Schema for editors', () => {
  test('packages/core/schema/fsm-config.schema.json matches the zod schema', () => {
    if (process.env.UPDATE_SCHEMA === '1') writeFileSync(schemaFile, generated);
    const checkedIn = existsSync(schemaFile) ? readFileSync(schemaFile, 'utf8') : '';
    expect(
      checkedIn === generated,
      'fsm-config.schema.json is stale; regenerate it with: UPDATE_SCHEMA=1 pnpm exec vitest run --project core src/config/json-schema',
    ).toBe(true);
  });

  test('the schema describes networks, states and arcs and accepts strings for numbers', () => {
    const schema = fsmConfigJsonSchema() as {
      required: string[];
      properties: Record<string, { anyOf?: { type: string }[] }>;
    };
    expect(schema.required).toEqual(['name']);
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['networks', 'states', 'arcs', 'resources', 'functions', 'data_mode']),
    );
    expect(schema.properties.max_transitions?.anyOf?.map((s) => s.type)).toEqual(['integer', 'string']);
  });

  test.each(['order-routing', 'enrich-with-subnetwork', 'retry-loop'])(
    'the schema accepts the dataknobs example %s and rejects a misspelled key',
    (name) => {
      const validate = new Ajv2020({ strict: false }).compile(fsmConfigJsonSchema());
      const doc = parse(readFileSync(`${examples}${name}.yaml`, 'utf8')) as Record<string, unknown>;
      expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
      expect(validate({ ...doc, max_transition: 5 })).toBe(false);
    },
  );

  test('the schema lets $include and $import appear in any object', () => {
    const validate = new Ajv2020({ strict: false }).compile(fsmConfigJsonSchema());
    const doc = {
      name: 'x',
      $include: 'base.yaml',
      networks: [{ name: 'n', states: [{ $import: 's.yaml', name: 'a' }] }],
    };
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
  });
});
