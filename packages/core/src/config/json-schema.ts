import { z } from 'zod';
import { rawConfigSchema } from './schema.js';

/** `$include`/`$import` may appear in any object of a config file; they are resolved before validation. */
const INCLUDE_KEYS = { '^\\$(include|import)$': {} };

/** JSON Schema (draft 2020-12) of the config file format, for editors (`$schema` / yaml-language-server). */
export function fsmConfigJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(rawConfigSchema, {
    io: 'input',
    unrepresentable: 'any',
    override: ({ jsonSchema }) => {
      if (jsonSchema.type === 'object' && jsonSchema.additionalProperties === false) {
        jsonSchema.patternProperties = { ...jsonSchema.patternProperties, ...INCLUDE_KEYS };
      }
    },
  }) as Record<string, unknown>;
}
