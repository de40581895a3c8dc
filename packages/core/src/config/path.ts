/** JSON paths in the format of config issues: `networks[0].states[2].arcs[1].target`; `''` is the root. */
export function childPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return base === '' ? key : `${base}.${key}`;
}

/** Formats a path given as segments (e.g. a zod issue path). */
export function formatPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of segments) {
    out = typeof segment === 'number' ? childPath(out, segment) : childPath(out, String(segment));
  }
  return out;
}
