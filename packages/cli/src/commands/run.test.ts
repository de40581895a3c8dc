import { describe, expect, it } from 'vitest';
import { defaultConcurrency } from './run.js';

describe('defaultConcurrency', () => {
  it('keeps twice as many records in flight with a PostgreSQL store', () => {
    expect(defaultConcurrency('postgres://postgres@127.0.0.1:5432/db')).toBe(128);
    expect(defaultConcurrency('PostgreSQL://host/db?schema=s')).toBe(128);
  });

  it('64 without a store and with any other store', () => {
    expect(defaultConcurrency(undefined)).toBe(64);
    expect(defaultConcurrency('sqlite:./fsm.db')).toBe(64);
    expect(defaultConcurrency('file:./postgres://x')).toBe(64);
  });
});
