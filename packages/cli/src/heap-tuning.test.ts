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
 * dropped) while ~10 MB stays live; prints how many full GCs it took. The tighter the old generation's
 * growth, the more of them: a count, unlike a heap size, hardly depends on the machine's load.
 */
function fullGcsDuringChurn(percent: number | undefined, execArgv: string[] = []): number {
  const script = `
    import { PerformanceObserver, constants } from 'node:perf_hooks';
    import { limitOldGenerationGrowth } from ${JSON.stringify(module)};
    let full = 0;
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) full++;
    });
    observer.observe({ entryTypes: ['gc'] });
    const stop = ${percent === undefined ? '() => undefined' : `limitOldGenerationGrowth(${percent})`};
    const live = Array.from({ length: 100_000 }, (_, i) => ({ i, s: 'live' + i }));
    let held = [];
    for (let round = 0; round < 800; round++) {
      for (let i = 0; i < 20_000; i++) held.push({ round, i, s: 'x' + i });
      if (held.length > 200_000) held = [];
      if (round % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    stop();
    observer.disconnect();
    console.log(full, live.length);
  `;
  const out = execFileSync(process.execPath, [...execArgv, '--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  return Number(out.trim().split(' ')[0]);
}

describe('limitOldGenerationGrowth', () => {
  it('sets how far the old generation may grow past what survived the last full GC', () => {
    const tight = fullGcsDuringChurn(50);
    const loose = fullGcsDuringChurn(400);
    expect(tight).toBeGreaterThanOrEqual(loose * 2);
  });

  it('leaves a process started with its own heap-size flags alone', () => {
    const own = fullGcsDuringChurn(50, ['--heap-growing-percent=400']);
    const tight = fullGcsDuringChurn(50);
    expect(tight).toBeGreaterThanOrEqual(own * 2);
  });
});

/** Whether V8 tracks allocation sites for pretenuring during a churn of objects (`--trace-pretenuring-statistics`). */
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
    [...execArgv, '--trace-pretenuring-statistics', '--input-type=module', '-e', script],
    { encoding: 'utf8' },
  );
  return /pretenuring:/.test(out);
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
