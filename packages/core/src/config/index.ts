export { fsmConfigJsonSchema } from './json-schema.js';
export type { LoadOptions, NormalizeOptions } from './load.js';
export { loadConfig, loadConfigWithWarnings, normalizeConfig } from './load.js';
export { DEFAULT_MAX_CONFIG_BYTES, parseConfigText } from './parse.js';
export type { RawConfig } from './schema.js';
export { rawConfigSchema } from './schema.js';
