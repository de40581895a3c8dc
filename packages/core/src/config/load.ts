import { realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type ConfigIssue, ConfigError } from '../errors/index.js';
import { crossCheck } from './cross-check.js';
import { type Env, substituteEnv } from './env.js';
import { realPathIfExists, resolveIncludes } from './includes.js';
import { normalizeRaw } from './normalize.js';
import { DEFAULT_MAX_CONFIG_BYTES, MAX_CONFIG_VALUES, readConfigFile, shapeProblem } from './parse.js';
import { rawConfigSchema } from './schema.js';
import type { ConfigWarning, FsmConfig, LoadedConfig } from './types.js';
import { mapZodIssues, unknownKeyWarnings, withoutKeys } from './zod-issues.js';

export interface NormalizeOptions {
  /** Variables for `${VAR}` substitution; defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /** Where the config came from, for error messages. */
  source?: string;
  /** Directory that `$include`/`$import` and custom modules resolve against; defaults to the current directory. */
  baseDir?: string;
  /** Resource names provided by the caller (e.g. `SimpleFSM.create(..., { resources })`), valid without a declaration. */
  knownResources?: readonly string[];
  /**
   * Folders, besides the folder of the top config (or `baseDir`), whose files `$include`/`$import` may read.
   * Links are resolved before the check, so a link inside an allowed folder to a file outside it is refused.
   */
  allowedRoots?: readonly string[];
  /** Largest config file and included file read, in bytes (default 10 MiB). */
  maxConfigBytes?: number;
}

export type LoadOptions = NormalizeOptions;

interface InternalOptions extends NormalizeOptions {
  /** Absolute path of the file `raw` was parsed from. */
  sourceFile?: string;
}

function fail(issues: ConfigIssue[], source: string | undefined): never {
  throw new ConfigError(issues, source === undefined ? {} : { source });
}

function normalizeInternal(raw: unknown, options: InternalOptions): LoadedConfig {
  const env: Env = options.env ?? process.env;
  const source = options.source ?? options.sourceFile;
  const baseDir = resolve(
    options.baseDir ?? (options.sourceFile ? dirname(options.sourceFile) : process.cwd()),
  );
  const issues: ConfigIssue[] = [];
  const rawProblem = options.sourceFile === undefined ? shapeProblem(raw) : undefined;
  if (rawProblem !== undefined) fail([{ path: '', message: `the config ${rawProblem}` }], source);

  const realBase = realPathIfExists(baseDir);
  const roots = [realBase];
  for (const [i, root] of (options.allowedRoots ?? []).entries()) {
    try {
      roots.push(realpathSync(resolve(root)));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      issues.push({ path: '', message: `allowedRoots[${i}]: cannot resolve ${root}: ${reason}` });
    }
  }
  if (issues.length > 0) fail(issues, source);

  const top = options.sourceFile === undefined ? [] : [realPathIfExists(options.sourceFile)];
  const included = resolveIncludes(raw, baseDir, top, '', {
    env,
    issues,
    cache: new Map(),
    displayDir: realBase,
    roots,
    maxBytes: options.maxConfigBytes ?? DEFAULT_MAX_CONFIG_BYTES,
    budget: { left: MAX_CONFIG_VALUES, reported: false },
  });
  if (issues.length > 0) fail(issues, source);
  // Shared included files and aliases are copied below once per use; refuse what would blow up.
  const expanded = shapeProblem(included);
  if (expanded !== undefined) fail([{ path: '', message: `the config ${expanded}` }], source);
  const substituted = substituteEnv(included, env, issues);
  if (issues.length > 0) fail(issues, source);

  let parsed = rawConfigSchema.safeParse(substituted, { reportInput: true });
  const warnings: ConfigWarning[] = [];
  if (!parsed.success) {
    const mapped = mapZodIssues(parsed.error.issues);
    if (mapped.errors.length > 0) fail(mapped.errors, source);
    warnings.push(...unknownKeyWarnings(mapped.unknownKeys));
    parsed = rawConfigSchema.safeParse(withoutKeys(substituted, mapped.unknownKeys), { reportInput: true });
    if (!parsed.success) fail(mapZodIssues(parsed.error.issues).errors, source);
  }

  const normalized = normalizeRaw(parsed.data);
  const checked = crossCheck(normalized.config, normalized.origins, options.knownResources);
  const allIssues = [...normalized.issues, ...checked.issues];
  if (allIssues.length > 0) fail(allIssues, source);

  const loaded: LoadedConfig = {
    config: normalized.config,
    warnings: [...warnings, ...normalized.warnings, ...checked.warnings],
    baseDir,
  };
  if (options.sourceFile !== undefined) loaded.sourceFile = options.sourceFile;
  return loaded;
}

/**
 * Validates and normalizes a parsed config (synchronously): env substitution, `$include`/`$import`, schema,
 * defaults, network-level arcs moved onto their states, cross-checks. Throws one ConfigError listing every issue.
 */
export function normalizeConfig(raw: unknown, options: NormalizeOptions = {}): LoadedConfig {
  return normalizeInternal(raw, options);
}

/** Loads a config file (YAML or JSON by extension) or normalizes a config object, with warnings. */
export async function loadConfigWithWarnings(
  source: string | object,
  options: LoadOptions = {},
): Promise<LoadedConfig> {
  if (typeof source !== 'string') return normalizeInternal(source, options);
  const file = resolve(options.baseDir ?? process.cwd(), source);
  const raw = readConfigFile(file, { maxBytes: options.maxConfigBytes ?? DEFAULT_MAX_CONFIG_BYTES });
  const { baseDir: _ignored, ...rest } = options;
  return normalizeInternal(raw, { ...rest, sourceFile: file, source: options.source ?? file });
}

/** Loads a config file or object and returns the normalized config (warnings dropped). */
export async function loadConfig(source: string | object, options: LoadOptions = {}): Promise<FsmConfig> {
  return (await loadConfigWithWarnings(source, options)).config;
}
