import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createQueueRunner } from '@fsm/bullmq';

// The bullmq package's own worker script: the same config and functions as the submitting side.
const workerScript = fileURLToPath(
  new URL('../../../packages/bullmq/test/worker-process.mjs', import.meta.url),
);
const { config, functions } = (await import(
  new URL('../../../packages/bullmq/test/shared-config.mjs', import.meta.url).href
)) as {
  config: object;
  functions: Record<string, (record: never) => Promise<unknown>>;
};

function startWorker(queue: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = fork(workerScript, [queue, '16'], {
      execArgv: [],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    child.once('message', () => resolve(child));
    child.once('error', reject);
  });
}

/** W7: records/s through BullMQ with 1 and with 2 worker processes (each record ~2 ms of CPU). */
export async function queueScaling(records: number): Promise<{ one: number; two: number }> {
  const rate = async (workers: number) => {
    const queue = `bench-${workers}-${Date.now().toString(36)}`;
    const runner = createQueueRunner({ connection: 'redis://127.0.0.1:6379', queue, config, functions });
    const children = await Promise.all(Array.from({ length: workers }, () => startWorker(queue)));
    try {
      const started = performance.now();
      const { batchId } = await runner.submit(Array.from({ length: records }, (_, n) => ({ n, cpuMs: 2 })));
      let done = 0;
      for await (const _ of runner.results(batchId)) done++;
      if (done !== records) throw new Error(`W7: ${done} of ${records} finished`);
      return (records * 1000) / (performance.now() - started);
    } finally {
      for (const child of children) child.kill('SIGTERM');
      await runner.close();
    }
  };
  return { one: await rate(1), two: await rate(2) };
}
