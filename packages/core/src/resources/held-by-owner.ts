/** Smallest table; always a power of two, so a probe wraps with a mask. */
const MIN_CAPACITY = 16;

/**
 * What each owner (an execution's state or arcs) holds, for resource managers: added on acquire, taken
 * whole on release. Every record adds and takes an owner of its own, so the table is churned by keys it
 * never sees again, which both of JavaScript's own tables handle badly:
 * - a Map replaces its hash table as deleted entries pile up, each replaced table pointing to the next and
 *   keeping its entries; once a full GC had moved one of them to V8's old generation, every later table, and
 *   what its entries held, survived the young GCs through it until the next full GC (bench W9: most of what
 *   a run promoted);
 * - a null-prototype object in dictionary mode has no such chain, but each add and take of a new key cost
 *   ~1.3 µs (bench W9: ~4 % of a record's time without history).
 * Hence a small open-addressing table of our own over two arrays: linear probing, deleted slots marked and
 * reused, rebuilt (new arrays, nothing linking them to the old ones) when marks and entries fill half of it.
 * Owners are compared as strings, never used as property names, so `__proto__` is an owner like any other.
 */
export class HeldByOwner<T> {
  /** `undefined`: never used; `null`: deleted (probes go on past it); else the owner. */
  private owners: Array<string | null | undefined> = emptySlots(MIN_CAPACITY);
  private lists: Array<T[] | undefined> = emptySlots(MIN_CAPACITY);
  private live = 0;
  /** Slots that are not `undefined`: live ones and deleted ones. */
  private used = 0;

  add(owner: string, item: T): void {
    const owners = this.owners;
    const mask = owners.length - 1;
    let slot = hashOf(owner) & mask;
    let free = -1;
    for (;;) {
      const at = owners[slot];
      if (at === undefined) break;
      if (at === null) {
        if (free < 0) free = slot;
      } else if (at === owner) {
        (this.lists[slot] as T[]).push(item);
        return;
      }
      slot = (slot + 1) & mask;
    }
    if (free >= 0) slot = free;
    else this.used++;
    owners[slot] = owner;
    this.lists[slot] = [item];
    this.live++;
    if (this.used * 2 > owners.length) this.rebuild();
  }

  /** Removes and returns what `owner` holds (undefined when nothing). */
  take(owner: string): T[] | undefined {
    const owners = this.owners;
    const mask = owners.length - 1;
    for (let slot = hashOf(owner) & mask; ; slot = (slot + 1) & mask) {
      const at = owners[slot];
      if (at === undefined) return undefined;
      if (at !== owner) continue;
      const list = this.lists[slot];
      owners[slot] = null;
      this.lists[slot] = undefined;
      this.live--;
      return list;
    }
  }

  /** Removes and returns everything, owner by owner. */
  takeAll(): T[] {
    const all: T[] = [];
    for (const [, list] of this.entries()) all.push(...list);
    this.owners = emptySlots(MIN_CAPACITY);
    this.lists = emptySlots(MIN_CAPACITY);
    this.live = 0;
    this.used = 0;
    return all;
  }

  /** Each owner with what it holds, mapped. */
  describe<U>(map: (item: T) => U): Map<string, U[]> {
    return new Map([...this.entries()].map(([owner, list]) => [owner, list.map(map)]));
  }

  private *entries(): Generator<[string, T[]]> {
    for (let slot = 0; slot < this.owners.length; slot++) {
      const owner = this.owners[slot];
      if (typeof owner === 'string') yield [owner, this.lists[slot] as T[]];
    }
  }

  /** New arrays with room for four times the live entries, without the deleted marks. */
  private rebuild(): void {
    let capacity = MIN_CAPACITY;
    while (capacity < this.live * 4) capacity *= 2;
    const entries = [...this.entries()];
    this.owners = emptySlots(capacity);
    this.lists = emptySlots(capacity);
    this.live = 0;
    this.used = 0;
    for (const [owner, list] of entries) {
      let slot = hashOf(owner) & (capacity - 1);
      while (this.owners[slot] !== undefined) slot = (slot + 1) & (capacity - 1);
      this.owners[slot] = owner;
      this.lists[slot] = list;
      this.live++;
      this.used++;
    }
  }
}

function emptySlots<V>(capacity: number): Array<V | undefined> {
  return new Array<V | undefined>(capacity).fill(undefined);
}

/** FNV-1a over the UTF-16 code units: owners differ in a few characters anywhere in the string. */
function hashOf(owner: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < owner.length; i++) hash = Math.imul(hash ^ owner.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}
