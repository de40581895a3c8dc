import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const module = fileURLToPath(new URL('./heap-tuning.ts', import.meta.url));

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

/**
 * A fresh process that promotes garbage into the old generation (objects kept across scavenges, then
 * dropped) while ~10 MB stays live; prints the old space's largest size in MB.
 */
function oldSpaceAfterChurn(limit: boolean, execArgv: string[] = []): number {
  const script = `
    import { getHeapSpaceStatistics } from 'node:v8';
    import { limitOldGenerationGrowth } from ${JSON.stringify(module)};
    const stop = ${limit} ? limitOldGenerationGrowth() : () => undefined;
    const live = Array.from({ length: 100_000 }, (_, i) => ({ i, s: 'live' + i }));
    let largest = 0;
    let held = [];
    for (let round = 0; round < 800; round++) {
      for (let i = 0; i < 20_000; i++) held.push({ round, i, s: 'x' + i });
      if (held.length > 200_000) held = [];
      const space = getHeapSpaceStatistics().find((s) => s.space_name === 'old_space');
      largest = Math.max(largest, space.space_size);
      if (round % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    stop();
    console.log(Math.round(largest / 1024 / 1024), live.length);
  `;
  const out = execFileSync(process.execPath, [...execArgv, '--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  return Number(out.trim().split(' ')[0]);
}

describe('limitOldGenerationGrowth', () => {
  it('keeps the old generation nearer its live size while garbage is promoted', () => {
    const unlimited = oldSpaceAfterChurn(false);
    const limited = oldSpaceAfterChurn(true);
    expect(limited).toBeLessThan(unlimited * 0.8);
  });

  it('leaves a process started with its own heap-size flags alone', () => {
    const own = oldSpaceAfterChurn(true, ['--heap-growing-percent=400']);
    const limited = oldSpaceAfterChurn(true);
    expect(own).toBeGreaterThan(limited);
  });
});

/** Whether V8 reports pretenuring decisions for a churn of short-lived objects (`--trace-pretenuring`). */
function pretenures(stop: boolean, execArgv: string[] = []): boolean {
  const script = `
    import { stopPretenuring } from ${JSON.stringify(module)};
    const undo = ${stop} ? stopPretenuring() : () => undefined;
    let keep = [];
    const make = (i) => ({ i, s: 'x' + i, a: [i, i + 1] });
    for (let r = 0; r < 300; r++) {
      for (let i = 0; i < 20_000; i++) keep.push(make(i));
      if (keep.length > 400_000) keep = [];
    }
    undo();
  `;
  const out = execFileSync(
    process.execPath,
    [...execArgv, '--trace-pretenuring', '--input-type=module', '-e', script],
    { encoding: 'utf8' },
  );
  return /allocation site/i.test(out);
}

describe('stopPretenuring', () => {
  it('turns off allocation-site pretenuring', () => {
    expect(pretenures(false)).toBe(true);
    expect(pretenures(true)).toBe(false);
  });

  it('leaves a process started with its own pretenuring flag alone', () => {
    expect(pretenures(true, ['--allocation-site-pretenuring'])).toBe(true);
  });
});
