import { describe, expect, it } from 'vitest';
import { ConfigError, FsmError, StorageError, toFsmError } from './index.js';

describe('FsmError', () => {
  it('carries a stable code, the state and the cause into JSON', () => {
    const cause = new TypeError('boom');
    const error = new FsmError('FUNCTION_FAILED', 'transform failed', { state: 'price', cause });
    expect(error.toJSON()).toEqual({
      code: 'FUNCTION_FAILED',
      message: 'transform failed',
      state: 'price',
      cause: { name: 'TypeError', message: 'boom' },
    });
  });

  it('is recognised across package copies by its brand, not by instanceof', () => {
    const foreign = Object.assign(new Error('x'), { [Symbol.for('@fsm/core/FsmError')]: true });
    expect(FsmError.is(foreign)).toBe(true);
    expect(FsmError.is(new Error('plain'))).toBe(false);
  });

  it('ConfigError lists every issue with its path', () => {
    const error = new ConfigError([
      { path: 'networks[0].states[1].arcs[0].target', message: 'unknown state "nope"' },
      { path: 'main_network', message: 'unknown network "x"' },
    ]);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.path).toBe('networks[0].states[1].arcs[0].target');
    expect(error.message).toContain('networks[0].states[1].arcs[0].target: unknown state "nope"');
    expect(error.message).toContain('main_network: unknown network "x"');
  });

  it('StorageError names the backend and the operation', () => {
    const error = new StorageError('sqlite', 'save', 'disk full');
    expect(error.message).toBe('[sqlite] save: disk full');
    expect(error.code).toBe('STORAGE_FAILED');
  });

  it('toFsmError keeps FsmErrors and wraps anything else', () => {
    const original = new FsmError('TIMEOUT', 't');
    expect(toFsmError(original, 'FUNCTION_FAILED', 'x')).toBe(original);
    const wrapped = toFsmError('str', 'FUNCTION_FAILED', 'wrapped', { state: 's' });
    expect(wrapped.code).toBe('FUNCTION_FAILED');
    expect(wrapped.cause).toBe('str');
  });
});
