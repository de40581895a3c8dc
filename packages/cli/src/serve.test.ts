import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecutionHistory } from '@fsm/core';
import { createStorage } from '@fsm/storage';
import { afterAll, describe, expect, it } from 'vitest';
import { inspectCommand } from './commands/inspect.js';
import { runOnQueue, workerCommand } from './commands/worker.js';

// `fsm inspect` and `fsm worker --metrics-port` serve until SIGINT/SIGTERM; the tests start them in
// this process and stop them by calling the signal listeners they added (never signalling vitest).
const dir = mkdtempSync(join(tmpdir(), 'fsm-cli-serve-'));
const config = join(dir, 'check.yaml');
writeFileSync(
  config,
  `name: checked
states:
  - name: start
    is_start: true
    validators: [{ type: expression, code: "n < 100" }]
  - { name: done, is_end: true }
arcs:
  - { from: start, to: done, name: go }
`,
);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Runs a serving command; `stop()` calls the SIGINT/SIGTERM listeners it registered. */
function serve(start: () => Promise<number>): { done: Promise<number>; stop: () => void } {
  const before = new Set([...process.rawListeners('SIGINT'), ...process.rawListeners('SIGTERM')]);
  const done = start();
  return {
    done,
    stop: () => {
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        for (const listener of process.rawListeners(signal)) {
          if (!before.has(listener)) (listener as (s: string) => void)(signal);
        }
      }
    },
  };
}

async function waitFor(url: string): Promise<Response> {
  for (let i = 0; i < 100; i++) {
    try {
      return await fetch(url);
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`${url} never answered`);
}

describe('serving commands', () => {
  it('fsm inspect serves the inspector for a config and a store', async () => {
    const url = `sqlite:${join(dir, 'inspect.db')}`;
    const store = await createStorage(url);
    await store.save(
      new ExecutionHistory({
        executionId: 'x-1',
        fsm: 'checked',
        status: 'succeeded',
        startedAt: Date.now(),
        steps: [{ network: 'main', state: 'start', arc: 'go', startedAt: Date.now() }],
      }),
    );
    await store.close();
    const port = await freePort();
    const server = serve(() =>
      inspectCommand(config, { storage: url, port: String(port), host: '127.0.0.1' }),
    );
    try {
      const graph = (await (await waitFor(`http://127.0.0.1:${port}/api/graph`)).json()) as { name: string };
      expect(graph.name).toBe('checked');
      const flow = (await (await fetch(`http://127.0.0.1:${port}/api/flow`)).json()) as {
        arcs: { arc: string; count: number }[];
      };
      expect(flow.arcs).toEqual([{ network: 'main', state: 'start', arc: 'go', count: 1 }]);
    } finally {
      server.stop();
    }
    expect(await server.done).toBe(0);
    await expect(
      inspectCommand(join(dir, 'none.yaml'), { storage: url, port: '1', host: '127.0.0.1' }),
    ).rejects.toThrow(/does not exist/);
  });

  it('fsm worker --metrics-port counts the records it ran, by outcome and error code', async () => {
    const port = await freePort();
    const queue = `fsm-metrics-${process.pid}-${Date.now()}`;
    const redis = 'redis://127.0.0.1:6379';
    const worker = serve(() =>
      workerCommand(config, { redis, queue, concurrency: '2', metricsPort: String(port) }),
    );
    try {
      await waitFor(`http://127.0.0.1:${port}/metrics`);
      const input = join(dir, 'in.jsonl');
      writeFileSync(input, '{"n":1}\n{"n":2}\n{"n":500}\n');
      const code = await runOnQueue(config, {
        redis,
        queue,
        input,
        output: join(dir, 'out.jsonl'),
        json: true,
      });
      expect(code).toBe(1);
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(text).toContain('fsm_records_processed_total{fsm="checked",outcome="succeeded"} 2');
      expect(text).toContain('fsm_records_failed_total{fsm="checked",code="VALIDATION_FAILED"} 1');
      expect(text).toMatch(
        /fsm_state_duration_seconds_count\{fsm="checked",network="main",state="start"\} 3/,
      );
    } finally {
      worker.stop();
    }
    expect(await worker.done).toBe(0);
  }, 30_000);
});
