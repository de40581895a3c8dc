import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { FunctionRef } from '../config/types.js';
import { ConfigError } from '../errors/errors.js';
import { createFunctionResolver } from './resolver.js';
import { testContext } from './test-support/context.js';
import type { FunctionContext } from './types.js';

const ctx = (params: Record<string, unknown> = {}): FunctionContext => ({ ...testContext, params });

async function issueOf(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(error)}`);
  return error;
}

describe('createFunctionResolver lookup', () => {
  it('registered functions shadow builtins, which shadow the config’s functions: section', async () => {
    const resolver = createFunctionResolver({
      registered: { identity: () => 'registered' },
      named: {
        identity: { type: 'expression', code: '"named"' },
        only_named: { type: 'expression', language: 'cel', code: '"named"' },
      },
    });
    expect((await resolver.resolve('identity', 'transform', 'p')).call({}, ctx())).toBe('registered');
    const builtinOnly = createFunctionResolver({
      named: { identity: { type: 'expression', code: '"named"' } },
    });
    expect((await builtinOnly.resolve('identity', 'transform', 'p')).call({ a: 1 }, ctx())).toEqual({ a: 1 });
    expect((await resolver.resolve('only_named', 'transform', 'p')).call({}, ctx())).toBe('named');
  });

  it('an unknown name is a ConfigError at the path with a suggestion', async () => {
    const resolver = createFunctionResolver({ registered: { is_big: () => true } });
    const error = await issueOf(
      resolver.resolve('is_bgi', 'condition', 'networks[0].states[1].arcs[0].condition'),
    );
    expect(error.issues).toEqual([
      {
        path: 'networks[0].states[1].arcs[0].condition',
        message: 'unknown function "is_bgi" (did you mean "is_big"?)',
      },
    ]);
  });

  it('{type: builtin} only finds builtins', async () => {
    const resolver = createFunctionResolver({ registered: { mine: () => 1 } });
    const error = await issueOf(resolver.resolve({ type: 'builtin', name: 'mine' }, 'transform', 'x'));
    expect(error.issues[0]?.path).toBe('x.name');
  });

  it('named references chain and a cycle is reported', async () => {
    const resolver = createFunctionResolver({ named: { a: 'b', b: 'always', c: 'd', d: 'c' } });
    expect((await resolver.resolve('a', 'condition', 'p')).call({}, ctx())).toBe(true);
    const error = await issueOf(resolver.resolve('c', 'condition', 'p'));
    expect(error.message).toContain('refers to itself');
  });

  it('marks async registered functions as not sync', async () => {
    const resolver = createFunctionResolver({ registered: { s: () => 1, a: async () => 1 } });
    expect((await resolver.resolve('s', 'transform', 'p')).sync).toBe(true);
    expect((await resolver.resolve('a', 'transform', 'p')).sync).toBe(false);
  });

  it('passes params from {type: registered, params}', async () => {
    const resolver = createFunctionResolver({
      registered: { f: (_d: unknown, c: FunctionContext) => c.params },
    });
    const fn = await resolver.resolve({ type: 'registered', name: 'f', params: { k: 2 } }, 'transform', 'p');
    expect(fn.params).toEqual({ k: 2 });
  });
});

describe('expressions', () => {
  it('jsonata conditions and transforms ($merge, = comparison), compiled to sync closures', async () => {
    const resolver = createFunctionResolver();
    const cond = await resolver.resolve({ type: 'expression', code: 'region = "US"' }, 'condition', 'p');
    expect(cond.sync).toBe(true);
    expect(await cond.call({ region: 'US' }, ctx())).toBe(true);
    const t = await resolver.resolve(
      { type: 'expression', code: '$merge([$, {"total": amount * 2}])' },
      'transform',
      'p',
    );
    expect(await t.call({ amount: 4 }, ctx())).toEqual({ amount: 4, total: 8 });
  });

  it('jsonata sees $params', async () => {
    const resolver = createFunctionResolver();
    const t = await resolver.resolve(
      { type: 'expression', code: 'amount > $params.limit', params: { limit: 3 } },
      'condition',
      'p',
    );
    expect(await t.call({ amount: 4 }, ctx({ limit: 3 }))).toBe(true);
  });

  it('CEL conditions are synchronous and see the record’s fields', async () => {
    const resolver = createFunctionResolver();
    const cond = await resolver.resolve(
      { type: 'expression', language: 'cel', code: 'amount > 100 && region == "US"' },
      'condition',
      'p',
    );
    expect(cond.sync).toBe(true);
    expect(cond.call({ amount: 150, region: 'US' }, ctx())).toBe(true);
    expect(cond.call({ amount: 50, region: 'US' }, ctx())).toBe(false);
  });

  it('CEL integer results come back as numbers', async () => {
    const resolver = createFunctionResolver();
    const t = await resolver.resolve(
      { type: 'expression', language: 'cel', code: '1 + 2' },
      'transform',
      'p',
    );
    expect(t.call({}, ctx())).toBe(3);
  });

  it('a syntax error is a ConfigError at the ref’s code path', async () => {
    const resolver = createFunctionResolver();
    const jsonataError = await issueOf(
      resolver.resolve({ type: 'expression', code: 'amount >' }, 'condition', 'arcs[0].condition'),
    );
    expect(jsonataError.issues[0]?.path).toBe('arcs[0].condition.code');
    const celError = await issueOf(
      resolver.resolve({ type: 'expression', language: 'cel', code: 'a &&' }, 'condition', 'q'),
    );
    expect(celError.issues[0]?.message).toContain('CEL syntax error');
  });

  it('a run-time error names the expression', async () => {
    const resolver = createFunctionResolver();
    const cond = await resolver.resolve(
      { type: 'expression', language: 'cel', code: 'missing > 1' },
      'condition',
      'p',
    );
    expect(() => cond.call({}, ctx())).toThrow(/CEL expression "missing > 1" failed/);
  });

  it('compiles each distinct expression once', async () => {
    const resolver = createFunctionResolver();
    const ref: FunctionRef = { type: 'expression', language: 'cel', code: 'x > 1' };
    const a = await resolver.resolve(ref, 'condition', 'p');
    const b = await resolver.resolve(ref, 'condition', 'q');
    expect(a.call).toBe(b.call);
  });
});

describe('code from configs', () => {
  it('inline and custom refs are refused with CODE_NOT_ALLOWED naming the path, and no Function is built', async () => {
    const spy = vi.spyOn(globalThis, 'Function');
    const resolver = createFunctionResolver();
    const inline = await issueOf(
      resolver.resolve({ type: 'inline', code: 'data.x > 5' }, 'condition', 'states[0].arcs[0].condition'),
    );
    expect(inline.code).toBe('CODE_NOT_ALLOWED');
    expect(inline.issues[0]?.path).toBe('states[0].arcs[0].condition.code');
    const custom = await issueOf(
      resolver.resolve({ type: 'custom', module: './x.mjs', name: 'f' }, 'transform', 't'),
    );
    expect(custom.code).toBe('CODE_NOT_ALLOWED');
    const bare = await issueOf(resolver.resolve("data['x'] > 5", 'condition', 'c'));
    expect(bare.code).toBe('CODE_NOT_ALLOWED');
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
  });

  it('with allowCode, inline expressions, bodies and Python-style subscripts run', async () => {
    const resolver = createFunctionResolver({ allowCode: true });
    expect((await resolver.resolve("data['x'] > 5", 'condition', 'p')).call({ x: 6 }, ctx())).toBe(true);
    const body = await resolver.resolve(
      { type: 'inline', code: 'const y = data.x * 2; return { y };' },
      'transform',
      'p',
    );
    expect(body.call({ x: 2 }, ctx())).toEqual({ y: 4 });
    const asyncBody = await resolver.resolve(
      { type: 'inline', code: 'return await Promise.resolve(data.x)' },
      'transform',
      'p',
    );
    expect(asyncBody.sync).toBe(false);
    expect(await asyncBody.call({ x: 9 }, ctx())).toBe(9);
  });

  it('with allowCode, custom module functions load relative to baseDir', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fsm-custom-'));
    writeFileSync(
      join(dir, 'fns.mjs'),
      'export const double = (d) => ({ n: d.n * 2 });\nexport const notFn = 1;\n',
    );
    const resolver = createFunctionResolver({ allowCode: true, baseDir: dir });
    const fn = await resolver.resolve(
      { type: 'custom', module: './fns.mjs', name: 'double' },
      'transform',
      'p',
    );
    expect(fn.call({ n: 4 }, ctx())).toEqual({ n: 8 });
    const missing = await issueOf(
      resolver.resolve({ type: 'custom', module: './fns.mjs', name: 'notFn' }, 'transform', 'p'),
    );
    expect(missing.issues[0]?.path).toBe('p.name');
    const absent = await issueOf(
      resolver.resolve({ type: 'custom', module: './nope.mjs', name: 'x' }, 'transform', 'p'),
    );
    expect(absent.issues[0]?.path).toBe('p.module');
  });

  it('the only module that builds functions from strings is inline-code.ts', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const root = new URL('..', import.meta.url);
    const offenders: string[] = [];
    const walk = (dir: URL) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const url = new URL(entry.name + (entry.isDirectory() ? '/' : ''), dir);
        if (entry.isDirectory()) walk(url);
        else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
          const text = readFileSync(url, 'utf8');
          if (/new Function\(|\beval\(|new AsyncFunction\(/.test(text)) offenders.push(entry.name);
        }
      }
    };
    walk(root);
    expect(offenders).toEqual(['inline-code.ts']);
  });
});
