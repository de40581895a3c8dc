import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { fsmConfigJsonSchema } from './index.js';

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
});
