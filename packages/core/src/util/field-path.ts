/** Reads `a.b.c` from a record; undefined when any step is missing. */
export function getField(data: unknown, path: string): unknown {
  if (path.indexOf('.') === -1) return isObject(data) ? data[path] : undefined;
  let current: unknown = data;
  for (const key of path.split('.')) {
    if (!isObject(current)) return undefined;
    current = current[key];
  }
  return current;
}

/** Writes `a.b.c` into a record in place, creating intermediate objects. */
export function setField(data: Record<string, unknown>, path: string, value: unknown): void {
  if (path.indexOf('.') === -1) {
    data[path] = value;
    return;
  }
  const keys = path.split('.');
  let current = data;
  for (let i = 0; i < keys.length - 1; i++) {
    const key = keys[i] as string;
    const next = current[key];
    if (isObject(next)) current = next;
    else {
      const created: Record<string, unknown> = {};
      current[key] = created;
      current = created;
    }
  }
  current[keys[keys.length - 1] as string] = value;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
