import { dirname, relative, resolve } from 'node:path';
import { type ConfigIssue, ConfigError, FsmError } from '../errors/index.js';
import { type Env, substituteString } from './env.js';
import { readConfigFile } from './parse.js';
import { childPath, isPlainObject } from './path.js';

export interface IncludeContext {
  env: Env;
  issues: ConfigIssue[];
  /** Parsed files by absolute path: each file is read and parsed once per load. */
  cache: Map<string, unknown>;
  /** Directory that file names in cycle messages are shown relative to. */
  displayDir: string;
}

/** Deep merge where `over` wins; objects merge key by key, anything else (arrays included) is replaced. */
export function deepMerge(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
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
  if (stack.includes(file)) {
    const chain = [...stack.slice(stack.indexOf(file)), file].map((f) => display(ctx, f)).join(' → ');
    ctx.issues.push({ path, message: `include cycle: ${chain}`, file: stack.at(-1) ?? file });
    return undefined;
  }
  if (!ctx.cache.has(file)) {
    try {
      ctx.cache.set(file, readConfigFile(file));
    } catch (error) {
      if (!(FsmError.is(error) && error instanceof ConfigError)) throw error;
      for (const issue of error.issues) ctx.issues.push({ ...issue, path });
      return undefined;
    }
  }
  const raw = ctx.cache.get(file);
  return { file, value: resolveIncludes(raw, dirname(file), [...stack, file], '', ctx) };
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
 * the part of it at a dotted `path`). File names are relative to the including file.
 */
export function resolveIncludes(
  value: unknown,
  baseDir: string,
  stack: readonly string[],
  path: string,
  ctx: IncludeContext,
): unknown {
  if (Array.isArray(value)) {
    return value.map((item, i) => resolveIncludes(item, baseDir, stack, childPath(path, i), ctx));
  }
  if (!isPlainObject(value)) return value;

  const own: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (key === '$include' || key === '$import') continue;
    own[key] = resolveIncludes(item, baseDir, stack, childPath(path, key), ctx);
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
    return deepMerge(imported.value, own);
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
      merged = deepMerge(merged, loaded.value);
    });
    return deepMerge(merged, own);
  }
  return own;
}
