// The config and functions both the submitting test and the worker processes use (same code everywhere).
export const config = {
  name: 'scale_out',
  states: [
    { name: 'start', is_start: true, transforms: ['work'] },
    { name: 'done', is_end: true },
  ],
  arcs: [{ from: 'start', to: 'done' }],
};
export const functions = {
  work: async (record) => {
    await new Promise((resolve) => setTimeout(resolve, record.delayMs ?? 0));
    // CPU work for the scaling benchmark: a busy loop of `cpuMs`.
    if (record.cpuMs) {
      const until = performance.now() + record.cpuMs;
      while (performance.now() < until);
    }
    return { ...record, doubled: record.n * 2, pid: process.pid };
  },
};
