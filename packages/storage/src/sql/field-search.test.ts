import { describe, expect, it } from 'vitest';
import { type FieldWindow, pageInChunks } from './field-search.js';

type Position = { startedAt: number; executionId: string };

/** A fake store of `count` histories, newest first, where every `every`-th one matches. */
function fakeScan(count: number, every: number) {
  const rows: Position[] = Array.from({ length: count }, (_, i) => ({
    startedAt: count - i,
    executionId: `e${count - i}`,
  }));
  const sizes: number[] = [];
  const scan = async (after: Position | undefined, size: number, hits: number): Promise<FieldWindow> => {
    sizes.push(size);
    const from = after ? rows.findIndex((r) => r.startedAt < after.startedAt) : 0;
    const window = from === -1 ? [] : rows.slice(from, from + size);
    const matches = window.filter((r) => r.startedAt % every === 0);
    return {
      counts: { running: 0, succeeded: matches.length, failed: 0 },
      read: window.length,
      hits: matches.slice(0, hits),
      ...(window.length > 0 ? { oldest: window[window.length - 1] } : {}),
    };
  };
  return { scan, sizes };
}

describe('pageInChunks', () => {
  it('stops at a full page after the first chunk when matches are dense', async () => {
    const { scan, sizes } = fakeScan(100_000, 2);
    const page = await pageInChunks(scan, undefined, 50_000, 51);
    expect(page.hits).toHaveLength(51);
    expect(sizes).toEqual([1000]);
  });

  it('reads growing chunks up to the window when matches are rare, and says where it stopped', async () => {
    const { scan, sizes } = fakeScan(100_000, 7_000);
    const page = await pageInChunks(scan, { startedAt: 100_001, executionId: 'x' }, 10_000, 51);
    expect(sizes).toEqual([1000, 2000, 4000, 3000]);
    expect(page.read).toBe(10_000);
    expect(page.oldest).toEqual({ startedAt: 90_001, executionId: 'e90001' });
    expect(page.hits.map((h) => h.startedAt)).toEqual([98_000, 91_000]);
  });

  it('ends with the store: fewer read than the window, asked for no more', async () => {
    const { scan, sizes } = fakeScan(1500, 500);
    const page = await pageInChunks(scan, undefined, 50_000, 51);
    expect(sizes).toEqual([1000, 2000]);
    expect(page.read).toBe(1500);
    expect(page.hits.map((h) => h.startedAt)).toEqual([1500, 1000, 500]);
  });
});
