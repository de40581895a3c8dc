/**
 * Deep copy of record data for copy mode and push isolation. Plain objects, arrays and dates are
 * copied; other class instances (buffers, clients) are shared — they are not record data.
 * Much faster than structuredClone for the small JSON-like records FSMs carry.
 */
export function cloneData<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = cloneData(value[i]);
    return out as T;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    const out: Record<string, unknown> = proto === null ? Object.create(null) : {};
    for (const key in value) out[key] = cloneData((value as Record<string, unknown>)[key]);
    return out as T;
  }
  if (value instanceof Date) return new Date(value.getTime()) as T;
  return value;
}

/** `serialize` isolation: what survives a JSON round trip (as a remote sub-network would see it). */
export function serializeData<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}
