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

  it('agrees with a Map under churn: owners come and go, some hold several items, the table grows and shrinks', () => {
    const held = new HeldByOwner<number>();
    const model = new Map<string, number[]>();
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % n;
    };
    for (let i = 0; i < 20_000; i++) {
      // Up to ~400 owners live at a time, then down to a few: rebuilds both ways.
      const span = i % 10_000 < 5_000 ? 400 : 8;
      const owner = `exec-${random(span)}:${i % 3 === 0 ? 'load' : 'arc'}`;
      if (random(3) === 0) {
        expect(held.take(owner)).toEqual(model.get(owner));
        model.delete(owner);
      } else {
        held.add(owner, i);
        model.set(owner, [...(model.get(owner) ?? []), i]);
      }
    }
    expect(held.describe((n) => n)).toEqual(model);
    expect(held.takeAll().sort((a, b) => a - b)).toEqual([...model.values()].flat().sort((a, b) => a - b));
    expect(held.take([...model.keys()][0] as string)).toBeUndefined();
  });
});
