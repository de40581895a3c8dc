import { describe, expect, it } from 'vitest';
import { HeldByOwner } from './held-by-owner.js';

describe('HeldByOwner', () => {
  it('adds per owner, takes one owner whole, then everything', () => {
    const held = new HeldByOwner<string>();
    held.add('a', 'x');
    held.add('a', 'y');
    held.add('b', 'z');
    expect(held.take('a')).toEqual(['x', 'y']);
    expect(held.take('a')).toBeUndefined();
    held.add('c', 'w');
    expect(held.describe((item) => item.toUpperCase())).toEqual(
      new Map([
        ['b', ['Z']],
        ['c', ['W']],
      ]),
    );
    expect(held.takeAll().sort()).toEqual(['w', 'z']);
    expect(held.describe((item) => item).size).toBe(0);
  });

  it('owners named like Object.prototype members are plain owners and pollute nothing', () => {
    const held = new HeldByOwner<number>();
    for (const [i, owner] of ['__proto__', 'constructor', 'toString', 'hasOwnProperty'].entries())
      held.add(owner, i);
    expect(held.take('valueOf')).toBeUndefined();
    expect(held.take('constructor')).toEqual([1]);
    expect(held.take('__proto__')).toEqual([0]);
    expect([...held.describe((n) => n).keys()].sort()).toEqual(['hasOwnProperty', 'toString']);
    expect(({} as Record<string, unknown>).toString).toBe(Object.prototype.toString);
  });
});
