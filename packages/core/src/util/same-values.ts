/**
 * Same own keys holding identical values, one level deep: nested objects must be the same object. Cheap
 * enough to ask per history step; a `false` only costs the copy it would have saved.
 */
export function sameValues(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (!isPlainRecord(a) || !isPlainRecord(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) if (!Object.hasOwn(b, key) || a[key] !== b[key]) return false;
  return true;
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
