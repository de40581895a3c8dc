/**
 * What each owner (an execution's state or arcs) holds, for resource managers: added on acquire, taken
 * whole on release. A null-prototype object, not a Map: every record adds and deletes its owner, and a Map
 * churned like that keeps replacing its hash table, each replaced table pointing to the next and keeping its
 * entries. Once a full GC had moved one of them to V8's old generation, every later table, and what its
 * entries held, survived the young GCs through it until the next full GC (bench W9: most of what a run
 * promoted). An object's dictionary has no such chain. Owners are looked up as own keys only, so an owner
 * named `__proto__` or `constructor` is an owner like any other.
 */
export class HeldByOwner<T> {
  private readonly owners: Record<string, T[]> = Object.create(null);

  add(owner: string, item: T): void {
    const list = this.owners[owner];
    if (list) list.push(item);
    else this.owners[owner] = [item];
  }

  /** Removes and returns what `owner` holds (undefined when nothing). */
  take(owner: string): T[] | undefined {
    const list = this.owners[owner];
    if (list) delete this.owners[owner];
    return list;
  }

  /** Removes and returns everything, owner by owner. */
  takeAll(): T[] {
    const all: T[] = [];
    for (const owner of Object.keys(this.owners)) all.push(...(this.take(owner) as T[]));
    return all;
  }

  /** Each owner with what it holds, mapped. */
  describe<U>(map: (item: T) => U): Map<string, U[]> {
    return new Map(Object.entries(this.owners).map(([owner, list]) => [owner, list.map(map)]));
  }
}
