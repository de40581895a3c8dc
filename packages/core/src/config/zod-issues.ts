import type { z } from 'zod';
import type { ConfigIssue } from '../errors/index.js';
import type { ConfigWarning } from './types.js';
import { childPath, formatPath } from './path.js';

export interface MappedIssues {
  errors: ConfigIssue[];
  /** Keys the schema does not know, as `{ path of the object, key }`. */
  unknownKeys: { objectPath: readonly PropertyKey[]; key: string }[];
}

/** A union branch that failed only because the value has another type says nothing about the value. */
function isTypeMismatch(branch: readonly z.core.$ZodIssue[]): boolean {
  const [only] = branch;
  if (branch.length !== 1 || !only || only.path.length > 0) return false;
  if (only.code === 'invalid_type') return true;
  return only.code === 'invalid_union' && only.errors.every(isTypeMismatch);
}

function requiredOrMessage(issue: z.core.$ZodIssue): string {
  return issue.code === 'invalid_type' && issue.input === undefined ? 'required' : issue.message;
}

function collect(
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[],
  out: MappedIssues,
): void {
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.unknownKeys.push({ objectPath: path, key });
      continue;
    }
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const relevant = issue.errors.filter((branch) => !isTypeMismatch(branch));
      const chosen =
        relevant.length === 0
          ? undefined
          : relevant.reduce((best, branch) => (branch.length < best.length ? branch : best));
      if (chosen) {
        collect(chosen, path, out);
        continue;
      }
    }
    out.errors.push({ path: formatPath(path), message: requiredOrMessage(issue) });
  }
}

/** Maps zod issues to config issues with JSON paths; union failures report the branch that fits the value. */
export function mapZodIssues(issues: readonly z.core.$ZodIssue[]): MappedIssues {
  const out: MappedIssues = { errors: [], unknownKeys: [] };
  collect(issues, [], out);
  return out;
}

export function unknownKeyWarnings(unknownKeys: MappedIssues['unknownKeys']): ConfigWarning[] {
  return unknownKeys.map(({ objectPath, key }) => ({
    path: childPath(formatPath(objectPath), key),
    message: 'unknown key (ignored)',
  }));
}

/** Returns a copy of `value` without the given unknown keys. */
export function withoutKeys(value: unknown, unknownKeys: MappedIssues['unknownKeys']): unknown {
  const copy = structuredClone(value);
  for (const { objectPath, key } of unknownKeys) {
    let target: unknown = copy;
    for (const segment of objectPath) {
      if (typeof target !== 'object' || target === null) break;
      target = (target as Record<PropertyKey, unknown>)[segment];
    }
    if (typeof target === 'object' && target !== null) delete (target as Record<string, unknown>)[key];
  }
  return copy;
}
