import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConfigIssue, ConfigError } from '../../errors/index.js';

/** Runs `fn`, expects a ConfigError, and returns its issues. */
export function issuesOf(fn: () => unknown): readonly ConfigIssue[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

/** Awaits `promise`, expects a ConfigError, and returns it. */
export async function configErrorOf(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError, but the promise resolved');
}

/** A fresh temp dir with the given files written into it. */
export function tempDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'fsm-config-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** The smallest valid config: one network, start → done. */
export function minimal(): Record<string, unknown> {
  return {
    name: 'demo',
    networks: [
      {
        name: 'main',
        states: [
          { name: 'start', is_start: true, arcs: [{ target: 'done' }] },
          { name: 'done', is_end: true },
        ],
      },
    ],
  };
}
