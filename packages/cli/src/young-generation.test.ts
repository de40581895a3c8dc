import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const module = fileURLToPath(new URL('./young-generation.ts', import.meta.url));

/**
 * A fresh process (its own heap) that keeps ~20 000 objects alive while allocating, so objects survive
 * scavenges and V8 grows its new space; prints the new space's largest size in MB.
 */
function newSpaceAfterChurn(cap: boolean, execArgv: string[] = []): number {
  const script = `
    import { getHeapSpaceStatistics } from 'node:v8';
    import { capYoungGeneration } from ${JSON.stringify(module)};
    const stop = ${cap} ? capYoungGeneration() : () => undefined;
    let largest = 0;
    let keep = [];
    for (let round = 0; round < 60; round++) {
      for (let i = 0; i < 100_000; i++) {
        keep.push({ i, s: 'x' + i });
        if (keep.length > 20_000) keep = [];
      }
      const space = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
      largest = Math.max(largest, space.space_size);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    stop();
    console.log(Math.round(largest / 1024 / 1024));
  `;
  const out = execFileSync(process.execPath, [...execArgv, '--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  return Number(out.trim());
}

describe('capYoungGeneration', () => {
  it('keeps the new space from growing to V8’s maximum in a long run with survivors', () => {
    const uncapped = newSpaceAfterChurn(false);
    const capped = newSpaceAfterChurn(true);
    // Uncapped, V8 grows the new space to its maximum (64 MB here); capped, it stays near its start.
    expect(uncapped).toBeGreaterThanOrEqual(64);
    expect(capped).toBeLessThanOrEqual(40);
  });

  it('leaves a process started with its own young-generation flags alone', () => {
    expect(newSpaceAfterChurn(true, ['--max-semi-space-size=64'])).toBeGreaterThan(40);
  });
});
