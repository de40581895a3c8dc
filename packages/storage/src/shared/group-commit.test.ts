import { describe, expect, it } from 'vitest';
import { GroupCommit } from './group-commit.js';

/** A commit that records its groups and holds each one until `openAll()` (from then on, none waits). */
function gatedCommit() {
  const groups: number[][] = [];
  const gates: Array<() => void> = [];
  let open = false;
  let active = 0;
  let maxActive = 0;
  const commit = async (rows: number[]) => {
    groups.push(rows);
    active++;
    maxActive = Math.max(maxActive, active);
    if (!open) await new Promise<void>((resolve) => gates.push(resolve));
    active--;
    if (rows.includes(13)) throw new Error('row 13 is refused');
  };
  const openAll = async () => {
    open = true;
    for (const release of gates.splice(0)) release();
    await tick();
  };
  return { groups, commit, openAll, maxActive: () => maxActive };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('GroupCommit', () => {
  it('commits the writes of one tick as one group', async () => {
    const gate = gatedCommit();
    const writer = new GroupCommit<number>(gate.commit);
    const done = [1, 2, 3].map((n) => writer.submit(n));
    await tick();
    await gate.openAll();
    await Promise.all(done);
    expect(gate.groups).toEqual([[1, 2, 3]]);
  });

  it('with maxInFlight 2 the next group goes while one commits, never a third', async () => {
    const gate = gatedCommit();
    const writer = new GroupCommit<number>(gate.commit, { maxInFlight: 2 });
    const first = writer.submit(1);
    await tick();
    const second = writer.submit(2);
    await tick();
    const third = writer.submit(3);
    await tick();
    // Two groups are committing; the third waits for one of them.
    expect(gate.groups).toEqual([[1], [2]]);
    await gate.openAll();
    await Promise.all([first, second, third]);
    expect(gate.groups).toEqual([[1], [2], [3]]);
    expect(gate.maxActive()).toBe(2);
  });

  it('writes beyond maxGroup go at once in further groups while slots are free', async () => {
    const gate = gatedCommit();
    const writer = new GroupCommit<number>(gate.commit, { maxInFlight: 2, maxGroup: 2 });
    const done = [1, 2, 3, 4, 5].map((n) => writer.submit(n));
    // No commit has returned: the second group did not wait for the first.
    for (let i = 0; i < 3; i++) await tick();
    expect(gate.groups).toEqual([
      [1, 2],
      [3, 4],
    ]);
    await gate.openAll();
    await Promise.all(done);
    expect(gate.groups).toEqual([[1, 2], [3, 4], [5]]);
    expect(gate.maxActive()).toBe(2);
  });

  it('one at a time by default', async () => {
    const gate = gatedCommit();
    const writer = new GroupCommit<number>(gate.commit);
    writer.submit(1);
    await tick();
    writer.submit(2);
    await tick();
    expect(gate.groups).toEqual([[1]]);
    await gate.openAll();
    await writer.drain();
    expect(gate.maxActive()).toBe(1);
  });

  it('a failing write fails alone: its group is retried row by row', async () => {
    const gate = gatedCommit();
    const writer = new GroupCommit<number>(gate.commit);
    const results = Promise.allSettled([12, 13, 14].map((n) => writer.submit(n)));
    await tick();
    await gate.openAll();
    expect((await results).map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(gate.groups).toEqual([[12, 13, 14], [12], [13], [14]]);
  });

  it('a write that cannot be prepared fails alone and never reaches the commit', async () => {
    const gate = gatedCommit();
    const writer = new GroupCommit<number, string>((rows) => gate.commit(rows.map(Number)), {
      prepare: (n) => {
        if (n < 0) throw new Error(`cannot prepare ${n}`);
        return String(n);
      },
    });
    const results = Promise.allSettled([1, -1, 2].map((n) => writer.submit(n)));
    await tick();
    await gate.openAll();
    const settled = await results;
    expect(settled.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(gate.groups).toEqual([[1, 2]]);
  });

  it('drain waits for every group in flight', async () => {
    const gate = gatedCommit();
    const writer = new GroupCommit<number>(gate.commit, { maxInFlight: 2 });
    let committed = 0;
    for (let n = 0; n < 5; n++) writer.submit(n).then(() => committed++);
    const drained = writer.drain().then(() => committed);
    await gate.openAll();
    expect(await drained).toBe(5);
  });
});
