import { realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { type ConfigIssue, ConfigError, FsmError } from '../errors/index.js';
import { type Env, substituteString } from './env.js';
import { DEFAULT_MAX_CONFIG_BYTES, MAX_CONFIG_VALUES, readConfigFile } from './parse.js';
import { defineOwn } from '../util/safe-keys.js';
import { isPlainObject } from '../util/field-path.js';
import { childPath } from './path.js';

export interface IncludeContext {
  env: Env;
  issues: ConfigIssue[];
  /**
   * Resolved content of each included file by real path: each file is read, parsed and resolved once per
   * load (a diamond of includes stays linear). Cached values are shared, never mutated: merges copy, and
   * env substitution copies the whole tree afterwards.
   */
  cache: Map<string, unknown>;
  /** Directory that file names in cycle messages are shown relative to. */
  displayDir: string;
  /** Real paths of the folders whose files may be included (the top config's folder, plus allowed roots). */
  roots: readonly string[];
  /** Largest included file, in bytes. */
  maxBytes?: number;
  /** Values left to visit while resolving; merges of shared content could otherwise take exponential time. */
  budget?: { left: number; reported: boolean };
}

/** Real path of a file or folder, or its absolute path when it does not exist (a missing folder holds no file). */
export function realPathIfExists(dir: string): string {
  try {
    return realpathSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return resolve(dir);
    throw error;
  }
}

/** The real path of the nearest existing folder above `file`, joined with the rest of `file`'s path. */
function nearestRealPath(file: string): string {
  const rest: string[] = [];
  let current = file;
  for (;;) {
    const parent = dirname(current);
    rest.unshift(basename(current));
    if (parent === current) return file;
    current = parent;
    try {
      return join(realpathSync(current), ...rest);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return file;
    }
  }
}

/** Whether `file` (a real path) lies inside folder `root` (a real path). */
export function isInside(file: string, root: string): boolean {
  const rel = relative(root, file);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

function spend(ctx: IncludeContext, path: string, amount: number): boolean {
  const budget = ctx.budget;
  if (budget === undefined) return true;
  budget.left -= amount;
  if (budget.left >= 0) return true;
  if (!budget.reported) {
    budget.reported = true;
    ctx.issues.push({
      path,
      message: `the config expands to more than ${MAX_CONFIG_VALUES} values through its includes (a file included too often?)`,
    });
  }
  return false;
}

/** Deep merge where `over` wins; objects merge key by key, anything else (arrays included) is replaced. */
export function deepMerge(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
  ctx?: IncludeContext,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (ctx !== undefined && !spend(ctx, '', 1)) return out;
    const current = Object.hasOwn(out, key) ? out[key] : undefined;
    // Merging a shared object with itself changes nothing; skipping it keeps diamonds of includes linear.
    if (current === value) continue;
    defineOwn(
      out,
      key,
      isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value, ctx) : value,
    );
  }
  return out;
}

function display(ctx: IncludeContext, file: string): string {
  const rel = relative(ctx.displayDir, file);
  return rel === '' ? file : rel;
}

/** Loads a referenced file, or records an issue at `path` and returns undefined. */
function loadReferenced(
  spec: unknown,
  baseDir: string,
  stack: readonly string[],
  path: string,
  ctx: IncludeContext,
): { file: string; value: unknown } | undefined {
  if (typeof spec !== 'string' || spec.trim() === '') {
    ctx.issues.push({ path, message: 'expected a file name' });
    return undefined;
  }
  const file = resolve(baseDir, substituteString(spec, ctx.env, path, ctx.issues));
  let real: string;
  let missing: unknown;
  try {
    real = realpathSync(file);
  } catch (error) {
    // Check a missing file by its nearest existing folder, so a refusal does not tell what exists outside.
    real = nearestRealPath(file);
    missing = error;
  }
  if (!ctx.roots.some((root) => isInside(real, root))) {
    const including = stack.at(-1);
    const shown = real === file ? file : `${file} (${real})`;
    ctx.issues.push({
      path,
      message:
        `refusing to read ${shown}: outside the folders a config may include from (${ctx.roots.join(', ')}); ` +
        'allow more with the allowedRoots option or --allow-read',
      // The file that names it, when the config came from a file.
      ...(including === undefined ? {} : { file: including }),
    });
    return undefined;
  }
  if (missing !== undefined) {
    const reason = missing instanceof Error ? missing.message : String(missing);
    ctx.issues.push({ path, message: `cannot read config file ${file}: ${reason}`, file });
    return undefined;
  }
  if (stack.includes(real)) {
    const chain = [...stack.slice(stack.indexOf(real)), real].map((f) => display(ctx, f)).join(' → ');
    ctx.issues.push({ path, message: `include cycle: ${chain}`, file: stack.at(-1) ?? real });
    return undefined;
  }
  if (ctx.cache.has(real)) return { file: real, value: ctx.cache.get(real) };
  let raw: unknown;
  try {
    raw = readConfigFile(real, { maxBytes: ctx.maxBytes ?? DEFAULT_MAX_CONFIG_BYTES, regularOnly: true });
  } catch (error) {
    if (!(FsmError.is(error) && error instanceof ConfigError)) throw error;
    for (const issue of error.issues) ctx.issues.push({ ...issue, path });
    return undefined;
  }
  const value = resolveIncludes(raw, dirname(real), [...stack, real], '', ctx);
  ctx.cache.set(real, value);
  return { file: real, value };
}

function selectPath(value: unknown, dotted: string): { found: boolean; value: unknown } {
  let current = value;
  for (const segment of dotted.split('.')) {
    if (Array.isArray(current) && /^\d+$/.test(segment)) current = current[Number(segment)];
    else if (isPlainObject(current) && Object.hasOwn(current, segment)) current = current[segment];
    else return { found: false, value: undefined };
    if (current === undefined) return { found: false, value: undefined };
  }
  return { found: true, value: current };
}

function resolveImport(
  spec: unknown,
  baseDir: string,
  stack: readonly string[],
  path: string,
  ctx: IncludeContext,
): { ok: boolean; value: unknown } {
  const importPath = childPath(path, '$import');
  let fileSpec: unknown = spec;
  let selector: string | undefined;
  if (isPlainObject(spec)) {
    fileSpec = spec.file;
    if (spec.path !== undefined) {
      if (typeof spec.path !== 'string') {
        ctx.issues.push({ path: childPath(importPath, 'path'), message: 'expected a dotted path string' });
        return { ok: false, value: undefined };
      }
      selector = spec.path;
    }
  }
  const loaded = loadReferenced(
    fileSpec,
    baseDir,
    stack,
    isPlainObject(spec) ? childPath(importPath, 'file') : importPath,
    ctx,
  );
  if (!loaded) return { ok: false, value: undefined };
  if (selector === undefined || selector === '') return { ok: true, value: loaded.value };
  const selected = selectPath(loaded.value, selector);
  if (!selected.found) {
    ctx.issues.push({
      path: childPath(importPath, 'path'),
      message: `'${selector}' not found in ${display(ctx, loaded.file)}`,
      file: loaded.file,
    });
    return { ok: false, value: undefined };
  }
  return { ok: true, value: selected.value };
}

/**
 * Resolves `$include` (merge the file's object under the current keys; current keys win, objects merge
 * deeply, later includes win over earlier ones) and `$import` (replace the value with the file's content, or
 * the part of it at a dotted `path`). File names are relative to the including file; only regular files
 * whose real path lies inside one of `ctx.roots` are read.
 */
export function resolveIncludes(
  value: unknown,
  baseDir: string,
  stack: readonly string[],
  path: string,
  ctx: IncludeContext,
): unknown {
  if (!spend(ctx, path, 1)) return undefined;
  if (Array.isArray(value)) {
    return value.map((item, i) => resolveIncludes(item, baseDir, stack, childPath(path, i), ctx));
  }
  if (!isPlainObject(value)) return value;

  const own: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (key === '$include' || key === '$import') continue;
    // A `__proto__` key stays an own key (assignment would swap the object's prototype).
    defineOwn(own, key, resolveIncludes(item, baseDir, stack, childPath(path, key), ctx));
  }

  if (Object.hasOwn(value, '$import')) {
    const imported = resolveImport(value.$import, baseDir, stack, path, ctx);
    if (!imported.ok) return own;
    if (Object.keys(own).length === 0) return imported.value;
    if (!isPlainObject(imported.value)) {
      ctx.issues.push({
        path: childPath(path, '$import'),
        message: 'an imported value that is not an object cannot be combined with other keys',
      });
      return own;
    }
    return deepMerge(imported.value, own, ctx);
  }

  if (Object.hasOwn(value, '$include')) {
    const includePath = childPath(path, '$include');
    const specs = Array.isArray(value.$include) ? value.$include : [value.$include];
    let merged: Record<string, unknown> = {};
    specs.forEach((spec, i) => {
      const specPath = Array.isArray(value.$include) ? childPath(includePath, i) : includePath;
      const loaded = loadReferenced(spec, baseDir, stack, specPath, ctx);
      if (!loaded) return;
      if (!isPlainObject(loaded.value)) {
        ctx.issues.push({
          path: specPath,
          message: `${display(ctx, loaded.file)} must contain an object to be included`,
          file: loaded.file,
        });
        return;
      }
      merged = deepMerge(merged, loaded.value, ctx);
    });
    return deepMerge(merged, own, ctx);
  }
  return own;
}
