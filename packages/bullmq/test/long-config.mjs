// A long FSM for the per-step checkpoint test: 6 steps, each logged to Redis, so the test can count how
// many steps ran in all (a record resumed from its checkpoint does not repeat its finished steps).
import { Redis } from 'ioredis';

const redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true });
const names = ['s1', 's2', 's3', 's4', 's5', 's6'];
export const longConfig = {
  name: 'long_scale_out',
  states: [
    ...names.map((name, i) => ({
      name,
      ...(i === 0 ? { is_start: true } : {}),
      transforms: ['step'],
      arcs: [{ target: names[i + 1] ?? 'done' }],
    })),
    { name: 'done', is_end: true },
  ],
};
export const longFunctions = {
  step: async (record, ctx) => {
    await new Promise((resolve) => setTimeout(resolve, record.stepMs ?? 0));
    if (redis.status === 'wait') await redis.connect();
    await redis.rpush(record.log, `${record.n}:${ctx.state}`);
    return { ...record, steps: (record.steps ?? 0) + 1 };
  },
};
export function closeLog() {
  return redis.quit();
}
