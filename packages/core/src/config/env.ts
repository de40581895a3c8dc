import type { ConfigIssue } from '../errors/index.js';
import { isPlainObject } from '../util/field-path.js';
import { childPath } from './path.js';
import { defineOwn } from '../util/safe-keys.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** Prefix tried when a variable is not set: `${DB_URL}` falls back to `FSM_DB_URL`. */
export const ENV_PREFIX = 'FSM_';

const NAME = '[A-Za-z_][A-Za-z0-9_]*';
// `$$` (escape), `${NAME}`, `${NAME:-default}`, `${NAME:?message}`; the default/message runs to the first `}`.
const TOKEN = new RegExp(`\\$\\$|\\$\\{(${NAME})(?:(:-|:\\?)([^}]*))?\\}`, 'g');
const BARE = new RegExp(`^\\$(${NAME})$`);

function lookup(env: Env, name: string): string | undefined {
  return env[name] ?? env[`${ENV_PREFIX}${name}`];
}

/**
 * Substitutes environment variables in one string. `${NAME}` and `${NAME:?message}` are required (an issue
 * when unset); `${NAME:-default}` falls back; a whole-string `$NAME` is replaced when set and kept verbatim
 * otherwise (so JSONata's `$merge(...)` and friends pass through). `$$` is a literal `$`.
 *
 * In `code` mode (the code of an expression or inline function) only `${...}` and `$${` are rewritten, so
 * JSONata's `$$` and `$name` stay intact.
 */
export function substituteString(
  value: string,
  env: Env,
  path: string,
  issues: ConfigIssue[],
  mode: 'value' | 'code' = 'value',
): string {
  if (!value.includes('$')) return value;
  if (mode === 'value') {
    const bare = BARE.exec(value);
    if (bare?.[1] !== undefined) return lookup(env, bare[1]) ?? value;
  }
  return value.replace(
    TOKEN,
    (match: string, name: string | undefined, op: string | undefined, arg: string | undefined) => {
      if (name === undefined) return mode === 'code' ? match : '$';
      const found = lookup(env, name);
      if (found !== undefined) return found;
      if (op === ':-') return arg ?? '';
      const detail = op === ':?' && arg ? `: ${arg}` : '';
      issues.push({
        path,
        message: `environment variable ${name} is not set (nor ${ENV_PREFIX}${name})${detail}`,
      });
      return match;
    },
  );
}

function codeMode(value: Record<string, unknown>): boolean {
  return value.type === 'expression' || value.type === 'inline';
}

/** Returns a copy of `value` with every string substituted; issues for missing required variables. */
export function substituteEnv(value: unknown, env: Env, issues: ConfigIssue[], path = ''): unknown {
  if (typeof value === 'string') return substituteString(value, env, path, issues);
  if (Array.isArray(value))
    return value.map((item, i) => substituteEnv(item, env, issues, childPath(path, i)));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    const isCode = codeMode(value);
    for (const [key, item] of Object.entries(value)) {
      const itemPath = childPath(path, key);
      const substituted =
        isCode && key === 'code' && typeof item === 'string'
          ? substituteString(item, env, itemPath, issues, 'code')
          : substituteEnv(item, env, issues, itemPath);
      // A `__proto__` key stays an own property (assignment would swap the copy's prototype).
      defineOwn(out, key, substituted);
    }
    return out;
  }
  return value;
}
