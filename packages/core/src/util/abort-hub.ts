/**
 * One `abort` listener per signal, fanning out to callbacks kept in a Set. Many records share one
 * signal (a stream's or a batch's): `addEventListener` walks every listener already there (duplicate
 * check) and refreshes a composite signal's sources, so a listener per awaited step costs O(records in
 * flight); adding to and deleting from a Set costs O(1).
 */
const hubs = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Calls `callback` once when `signal` aborts; returns the function that unregisters it (call it once the
 * wait is over). An already aborted signal is not checked here: callers test `signal.aborted` first.
 */
export function onAbort(signal: AbortSignal, callback: () => void): () => void {
  let callbacks = hubs.get(signal);
  if (!callbacks) {
    const created = new Set<() => void>();
    signal.addEventListener(
      'abort',
      () => {
        // A callback may register or unregister others: run over a copy.
        const pending = [...created];
        created.clear();
        for (const fn of pending) fn();
      },
      { once: true },
    );
    hubs.set(signal, created);
    callbacks = created;
  }
  const set = callbacks;
  set.add(callback);
  return () => {
    set.delete(callback);
  };
}
