import { z } from 'zod';
import { rawConfigSchema } from './schema.js';

/** JSON Schema (draft 2020-12) of the config file format, for editors (`$schema` / yaml-language-server). */
export function fsmConfigJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(rawConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
