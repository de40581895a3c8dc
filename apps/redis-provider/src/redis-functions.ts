import type { BuiltinFunction, FunctionContext, FunctionParams } from '@fsm/core';
import type { Redis } from 'ioredis';

type Row = Record<string, unknown>;

function text(params: FunctionParams, name: string, fallback?: string): string {
  const value = (params as Record<string, unknown> | undefined)?.[name] ?? fallback;
  // The message becomes a ConfigError at `<function path>.params` when the config is compiled.
  if (typeof value !== 'string' || value === '') throw new Error(`params.${name} must be a non-empty string`);
  return value;
}

/**
 * A function pack written against core's `BuiltinFunction` interface directly (no zod needed):
 * `redis_dedup` marks records whose key was seen before; `redis_count` keeps a counter per key.
 */
export const redisFunctions: readonly BuiltinFunction[] = [
  {
    name: 'redis_dedup',
    roles: ['transform'],
    sync: false,
    description:
      'Sets `duplicate: true` on a record whose `key_field` was seen within `ttl_seconds` (SET NX).',
    create(params) {
      const resource = text(params, 'resource', 'redis');
      const field = text(params, 'key_field');
      const prefix = text(params, 'prefix', 'dedup:');
      const ttl = Number((params as Row | undefined)?.ttl_seconds ?? 86_400);
      return async (data: unknown, ctx: FunctionContext) => {
        const redis = ctx.resources.get<Redis>(resource);
        const key = `${prefix}${String((data as Row)[field])}`;
        const first = await redis.set(key, '1', 'EX', ttl, 'NX');
        return { ...(data as Row), duplicate: first === null };
      };
    },
  },
  {
    name: 'redis_count',
    roles: ['transform'],
    sync: false,
    description: 'Increments the counter `prefix + key_field value` and writes the count to `target`.',
    create(params) {
      const resource = text(params, 'resource', 'redis');
      const field = text(params, 'key_field');
      const prefix = text(params, 'prefix', 'count:');
      const target = text(params, 'target', 'count');
      return async (data: unknown, ctx: FunctionContext) => {
        const count = await ctx.resources
          .get<Redis>(resource)
          .incr(`${prefix}${String((data as Row)[field])}`);
        return { ...(data as Row), [target]: count };
      };
    },
  },
];
