import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

function codeOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}

/**
 * `mkdir -p` that fails fast. Node's recursive mkdir retries forever where mkdir answers ENOENT under an
 * existing folder (`/proc/nope`), so walk up to the nearest existing folder and create each missing one
 * once; an error names the folder that could not be made.
 */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  let current = resolve(dir);
  for (;;) {
    try {
      if (!statSync(current).isDirectory())
        throw new Error(`cannot create folder ${dir}: ${current} is not a folder`);
      break;
    } catch (error) {
      const parent = dirname(current);
      if (codeOf(error) !== 'ENOENT' || parent === current) throw error;
      missing.push(current);
      current = parent;
    }
  }
  for (const folder of missing.reverse()) {
    try {
      mkdirSync(folder);
    } catch (error) {
      // Another process may have made it meanwhile.
      if (codeOf(error) === 'EEXIST' && statSync(folder).isDirectory()) continue;
      throw new Error(`cannot create folder ${folder}: ${(error as Error).message}`, { cause: error });
    }
  }
}
