export type { Env } from './env.js';
export { ENV_PREFIX, substituteEnv, substituteString } from './env.js';
export { fsmConfigJsonSchema } from './json-schema.js';
export type { LoadOptions, NormalizeOptions } from './load.js';
export { loadConfig, loadConfigWithWarnings, normalizeConfig } from './load.js';
export { parseConfigText } from './parse.js';
export { rawConfigSchema } from './schema.js';
