import { describe, expect, it } from 'vitest';
import { AdvancedFSM } from './advanced-fsm.js';
import { SimpleFSM } from './simple-fsm.js';

type Rec = Record<string, unknown>;

const config = {
  name: 'adv',
  main_network: 'main',
  networks: [
    {
      name: 'main',
      states: [
        {
          name: 'start',
          is_start: true,
          transforms: ['count'],
          arcs: [{ target: 'review', target_network: 'sub', return_state: 'review' }],
        },
        { name: 'review', transforms: ['count'], arcs: [{ target: 'end', name: 'finish' }] },
        { name: 'end', is_end: true },
      ],
    },
    {
      name: 'sub',
      states: [
        { name: 's1', is_start: true, transforms: ['count'], arcs: [{ target: 's2' }] },
        { name: 's2', transforms: ['asyncCount'], arcs: [{ target: 's3' }] },
        { name: 's3', is_end: true },
      ],
    },
  ],
};
const functions = {
  count: (d: { steps?: number }) => ({ ...d, steps: (d.steps ?? 0) + 1 }),
  asyncCount: async (d: { steps?: number }) => ({ ...d, steps: (d.steps ?? 0) + 1 }),
};

describe('AdvancedFSM', () => {
  it('step() takes one transition at a time, through a push arc', async () => {
    const fsm = await AdvancedFSM.create(config, { functions });
    const execution = fsm.createExecution({});
    const states: string[] = [];
    for (;;) {
      const step = await execution.step();
      states.push(`${step.network}.${step.state}`);
      if (step.done) break;
    }
    expect(states).toEqual(['main.start', 'sub.s1', 'sub.s2', 'main.review', 'main.end']);
    expect(execution.result).toMatchObject({ success: true, finalState: 'end', data: { steps: 4 } });
    await expect(execution.step()).rejects.toMatchObject({ code: 'MISUSE' });
  });

  it('run() pauses at a breakpoint inside a sub-network, then continues', async () => {
    const fsm = await AdvancedFSM.create(config, { functions, breakpoints: ['s2'] });
    const execution = fsm.createExecution({});
    expect(await execution.run()).toBeUndefined();
    expect(execution.state).toBe('s2');
    expect(execution.network).toBe('sub');
    expect(execution.data).toEqual({ steps: 3 });
    expect(await execution.run()).toMatchObject({ success: true, finalState: 'end' });
  });

  it('runUntil(state) stops on arrival there', async () => {
    const fsm = await AdvancedFSM.create(config, { functions });
    const execution = fsm.createExecution({});
    await execution.runUntil('review');
    expect(execution.state).toBe('review');
    expect(execution.done).toBe(false);
  });

  it('calls hooks for enter, exit, transition and error', async () => {
    const log: string[] = [];
    const fsm = await AdvancedFSM.create(config, {
      functions,
      hooks: {
        onStateEnter: (e) => log.push(`enter ${e.state}`),
        onStateExit: (e) => log.push(`exit ${e.state}`),
        onTransition: (e) => log.push(`arc ${e.from}->${e.to}`),
      },
    });
    await fsm.createExecution({}).run();
    expect(log.slice(0, 4)).toEqual(['enter start', 'exit start', 'arc start->s1', 'enter s1']);
    expect(log).toContain('arc review->end');
    expect(log.at(-1)).toBe('exit end');

    const errors: string[] = [];
    const failing = await AdvancedFSM.create(config, {
      functions: {
        ...functions,
        asyncCount: async () => {
          throw new Error('nope');
        },
      },
      hooks: { onError: (e) => errors.push(`${e.state}: ${e.error.code}`) },
    });
    const result = await failing.createExecution({}).run();
    expect(result?.success).toBe(false);
    expect(errors).toEqual(['s2: FUNCTION_FAILED']);
  });

  it('keeps a trace with timings and a profile per state and arc', async () => {
    const fsm = await AdvancedFSM.create(config, { functions });
    const execution = fsm.createExecution({});
    await execution.run();
    expect(execution.trace.filter((t) => t.type === 'transition').map((t) => t.arc)).toEqual([
      'start=>sub->review',
      's1->s2',
      's2->s3',
      'finish',
    ]);
    for (const entry of execution.trace) expect(entry.at).toBeGreaterThanOrEqual(0);
    const profile = execution.profile;
    expect(profile.states['main.start']).toMatchObject({ count: 1 });
    expect(profile.states['sub.s2']?.meanMs).toBeGreaterThanOrEqual(0);
    expect(profile.arcs.finish).toEqual({ taken: 1 });
  });

  it('snapshot → JSON → resume gives the same final result as an uninterrupted run, also mid-push', async () => {
    const fsm = await AdvancedFSM.create(config, { functions, breakpoints: ['s2'] });
    const straight = await (await SimpleFSM.create(config, { functions })).process({ id: 1 });

    const first = fsm.createExecution({ id: 1 }, { executionId: 'snap-1' });
    await first.run();
    const json = JSON.stringify(first.snapshot());

    const other = await AdvancedFSM.create(config, { functions });
    const resumed = await other.resume(JSON.parse(json));
    expect(resumed.state).toBe('s2');
    const result = await resumed.run();
    expect(result).toMatchObject({
      success: true,
      finalState: straight.finalState,
      data: straight.data,
      path: straight.path,
    });
    expect(result?.executionId).toBe('snap-1');
    expect(result?.transitions).toBe(straight.transitions);
  });

  it('a snapshot taken before the first step resumes from the start', async () => {
    const fsm = await AdvancedFSM.create(config, { functions });
    const snapshot = fsm.createExecution({ x: 1 }).snapshot();
    expect(snapshot).toMatchObject({ phase: 'enter', state: 'start', data: { x: 1 }, stack: [] });
    const result = await (await fsm.resume(snapshot)).run();
    expect(result?.data).toEqual({ x: 1, steps: 4 });
  });

  it('a stored snapshot whose variables hold a "__proto__" key keeps it as plain data', async () => {
    const fsm = await AdvancedFSM.create(config, { functions });
    const stored = JSON.stringify(fsm.createExecution({ x: 1 }).snapshot()).replace(
      '"variables":{}',
      '"variables":{"__proto__":{"polluted":true},"seen":1}',
    );
    expect(stored).toContain('"__proto__"');
    const execution = await fsm.resume(JSON.parse(stored));
    const variables = execution.snapshot().variables as Record<string, unknown>;
    expect(Object.getPrototypeOf(variables)).toBe(Object.prototype);
    expect(Object.hasOwn(variables, '__proto__')).toBe(true);
    expect((variables as { polluted?: unknown }).polluted).toBeUndefined();
    expect(variables.seen).toBe(1);
    expect((await execution.run())?.data).toEqual({ x: 1, steps: 4 });
  });

  it('rejects a snapshot of another FSM', async () => {
    const fsm = await AdvancedFSM.create(config, { functions });
    const snapshot = { ...fsm.createExecution({}).snapshot(), fsm: 'other' };
    await expect(fsm.resume(snapshot)).rejects.toMatchObject({ code: 'SNAPSHOT_INVALID' });
  });

  it('records history for stepped executions', async () => {
    const fsm = await AdvancedFSM.create(config, { functions });
    const execution = fsm.createExecution({});
    await execution.run();
    const history = execution.history;
    expect(history.status).toBe('succeeded');
    expect(history.steps.map((s) => s.state)).toEqual(['start', 'review', 'end']);
    expect(history.steps[0]?.children?.map((s) => s.state)).toEqual(['s1', 's2', 's3']);
  });
});

describe('execution strategies', () => {
  const tieConfig = (strategy: string) => ({
    name: 'ties',
    execution_strategy: strategy,
    states: [
      {
        name: 's',
        is_start: true,
        arcs: [
          { target: 'a', priority: 1 },
          { target: 'b', priority: 1 },
          { target: 'c', priority: 1 },
        ],
      },
      { name: 'a', is_end: true },
      { name: 'b', is_end: true },
      { name: 'c', is_end: true },
    ],
  });

  it('depth_first always takes the first holding arc', async () => {
    const fsm = await SimpleFSM.create(tieConfig('depth_first'));
    const ends = await Promise.all(Array.from({ length: 6 }, () => fsm.process({})));
    expect(new Set(ends.map((r) => r.finalState))).toEqual(new Set(['a']));
  });

  it('resource_optimized spreads ties evenly with round-robin and keeps statistics', async () => {
    const fsm = await AdvancedFSM.create(tieConfig('resource_optimized'));
    const counts: Rec = {};
    for (let i = 0; i < 300; i++) {
      const r = await fsm.process({});
      counts[r.finalState] = ((counts[r.finalState] as number | undefined) ?? 0) + 1;
    }
    expect(counts).toEqual({ a: 100, b: 100, c: 100 });
    const stats = fsm.arcStatistics();
    expect(stats.map((s) => s.taken).sort()).toEqual([100, 100, 100]);
    expect(stats.every((s) => s.successRate === 1)).toBe(true);
  });

  it('breadth_first prefers the arc closest to an end state', async () => {
    const fsm = await SimpleFSM.create({
      name: 'bfs',
      execution_strategy: 'breadth_first',
      states: [
        {
          name: 's',
          is_start: true,
          arcs: [
            { target: 'long1', priority: 5 },
            { target: 'short', priority: 0 },
          ],
        },
        { name: 'long1', arcs: [{ target: 'long2' }] },
        { name: 'long2', arcs: [{ target: 'end' }] },
        { name: 'short', arcs: [{ target: 'end' }] },
        { name: 'end', is_end: true },
      ],
    });
    expect((await fsm.process({})).path).toEqual(['s', 'short', 'end']);
  });

  it('stream_optimized prefers arcs without resources or pushes', async () => {
    const fsm = await SimpleFSM.create(
      {
        name: 'so',
        execution_strategy: 'stream_optimized',
        resources: [{ name: 'db', type: 'custom' }],
        states: [
          {
            name: 's',
            is_start: true,
            arcs: [{ target: 'heavy', priority: 5, resources: ['db'] }, { target: 'light' }],
          },
          { name: 'heavy', is_end: true },
          { name: 'light', is_end: true },
        ],
      },
      {
        resources: {
          db: {
            specificationVersion: 'v1',
            type: 'custom',
            name: 'db',
            create: async () => ({}),
            destroy: async () => undefined,
            close: async () => undefined,
          },
        },
      },
    );
    expect((await fsm.process({})).finalState).toBe('light');
    await fsm.close();
  });
});
