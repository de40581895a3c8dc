import { UsageError } from './exit-codes.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `500ms`, `30s`, `2m`, `1h`, or a bare number of seconds → milliseconds. */
export function parseDuration(text: string, option = '--timeout'): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new UsageError(`${option}: "${text}" is not a duration (use e.g. 500ms, 30s, 2m)`);
  const value = Number(match[1]) * (UNITS[match[2] ?? 's'] as number);
  if (value <= 0) throw new UsageError(`${option}: the duration must be positive`);
  return value;
}

export function parsePositiveInt(text: string, option: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`${option}: "${text}" is not a positive whole number`);
  return n;
}
