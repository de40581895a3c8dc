/**
 * Keys that reach the prototype chain when used as a property name: writing through `__proto__` swaps an
 * object's prototype (or, walked further, pollutes `Object.prototype`); `constructor` and `prototype`
 * lead from any object to `Object` and `Object.prototype`. No field path may contain them.
 */
export const FORBIDDEN_KEYS: readonly string[] = Object.freeze(['__proto__', 'constructor', 'prototype']);

export function isForbiddenKey(key: string): boolean {
  return key === '__proto__' || key === 'constructor' || key === 'prototype';
}

/** The first forbidden segment of a dotted field path, or undefined when the path is safe. */
export function forbiddenSegment(path: string): string | undefined {
  // Fast exit: every forbidden key contains one of these letters runs; most paths have none.
  if (path.indexOf('proto') === -1 && path.indexOf('constructor') === -1) return undefined;
  for (const segment of path.split('.')) if (isForbiddenKey(segment)) return segment;
  return undefined;
}

/** Sets an own data property, also for a key named `__proto__` (assignment would swap the prototype). */
export function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else target[key] = value;
}

/** A config problem for a field path given in a config, or undefined when it is safe. */
export function checkConfigFieldPath(
  path: string,
  configPath: string,
): { path: string; message: string } | undefined {
  const segment = forbiddenSegment(path);
  if (segment === undefined) return undefined;
  return {
    path: configPath,
    message: `field path "${path}" contains "${segment}"; __proto__, constructor and prototype are not allowed in field paths`,
  };
}
