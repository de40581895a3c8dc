import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/**
 * New space (V8's `new_space` size: both semi-spaces) at which it stops growing. 32 MB is where the
 * unbundled CLI's startup left it before the cap applied; the bundled CLI starts at 16 MB, and held there a
 * 100 k-record run took twice the scavenges and ~0.2 s more GC (bench W9). One more doubling may happen
 * between two checks.
 */
const CAP_BYTES = 32 * 1024 * 1024;
const CHECK_MS = 100;

/**
 * Keeps V8's young generation at 32 MB during a long run. V8 doubles the new space each time enough
 * bytes survived scavenges since the last growth, which a pipeline with records in flight always does,
 * up to 64 MB semi-spaces: ~100 MB more RSS that buys no throughput here (bench W9: the same CPU time with
 * `--max-semi-space-size=8`). `--max-semi-space-size` only acts at startup, but the growth factor is read
 * at each growth, so a timer sets it to 1 (no growth) while the new space is at the cap and back to 2
 * (V8's default) below it, so a new space V8 shrank while idle can grow again. Leaves alone a process
 * started with its own young-generation flags. Returns the function that stops the timer.
 */
export function capYoungGeneration(): () => void {
  const flags = `${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`;
  if (/--(max|min)-semi-space-size|--semi-space-growth-factor/.test(flags)) return () => undefined;
  let capped = false;
  const check = () => {
    const space = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    if (!space) return;
    const atCap = space.space_size >= CAP_BYTES;
    if (atCap !== capped) {
      capped = atCap;
      setFlagsFromString(`--semi-space-growth-factor=${atCap ? 1 : 2}`);
    }
  };
  const timer = setInterval(check, CHECK_MS);
  // Never what keeps the process alive.
  timer.unref();
  return () => {
    clearInterval(timer);
    if (capped) setFlagsFromString('--semi-space-growth-factor=2');
  };
}

/** Old generation at most (1 + this/100) × what survived the last full GC before the next one. */
const OLD_GENERATION_GROWTH_PERCENT = 150;

/**
 * Bounds V8's old generation during a long run. V8 lets it grow to several times the live heap before
 * a full GC (bench W9 at 1 M records: ~30 MB live, ~140 MB of old space, ~290 MB RSS) because full GCs
 * are cheap there; `--heap-growing-percent` (read at each full GC) caps that factor, so memory stays
 * flat at the same throughput within noise. No hard limit: a run whose live data grows still grows.
 * Leaves alone a process started with its own heap-size flags. Returns the function that undoes it.
 */
export function limitOldGenerationGrowth(percent = OLD_GENERATION_GROWTH_PERCENT): () => void {
  const flags = `${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`;
  if (/--max-old-space-size|--max-heap-size|--heap-growing-percent/.test(flags)) return () => undefined;
  setFlagsFromString(`--heap-growing-percent=${percent}`);
  return () => setFlagsFromString('--heap-growing-percent=0');
}

/**
 * Turns off V8's allocation-site pretenuring for the run. V8 starts allocating objects of a site
 * straight into the old generation once enough of them survived a young GC; in a pipeline whose records
 * live a few milliseconds that bet flips run by run (bench W9, durable SQLite: ~33 MB or ~390–570 MB of
 * old-generation garbage per 100 k records, 13–15 k records/s). Off, every run is the fast one.
 * Leaves alone a process started with its own pretenuring flag. Returns the function that undoes it.
 */
export function stopPretenuring(): () => void {
  const flags = `${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`;
  if (/--(no-)?allocation-site-pretenuring/.test(flags)) return () => undefined;
  setFlagsFromString('--no-allocation-site-pretenuring');
  return () => setFlagsFromString('--allocation-site-pretenuring');
}

/** All of the above, for a long run (`fsm run`, `fsm worker`); returns the function that undoes them. */
export function tuneHeapForLongRun(): () => void {
  const undo = [capYoungGeneration(), limitOldGenerationGrowth(), stopPretenuring()];
  return () => {
    for (const step of undo) step();
  };
}
