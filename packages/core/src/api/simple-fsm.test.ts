import { describe, expect, it } from 'vitest';
import { SimpleFSM } from './simple-fsm.js';

type Rec = Record<string, unknown>;

const linear = (extra: Rec = {}) => ({
  name: 'linear',
  states: [
    { name: 'a', is_start: true, transforms: ['inc'] },
    { name: 'b', transforms: ['inc'] },
    { name: 'c', is_end: true },
  ],
  arcs: [
    { from: 'a', to: 'b' },
    { from: 'b', to: 'c' },
  ],
  ...extra,
});
const inc = (d: { n: number }) => ({ ...d, n: d.n + 1 });

describe('SimpleFSM.process', () => {
  it('runs a record from the start state to an end state with path, transitions and data', async () => {
    const fsm = await SimpleFSM.create(linear(), { functions: { inc } });
    const r = await fsm.process({ n: 0 });
    expect(r).toMatchObject({
      success: true,
      finalState: 'c',
      data: { n: 2 },
      path: ['a', 'b', 'c'],
      transitions: 2,
    });
    expect(r.executionId).toMatch(/^[0-9a-f]{8}-[0-9a-z]+$/);
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
    expect(r.error).toBeUndefined();
  });

  it('takes the highest-priority arc whose condition holds', async () => {
    const fsm = await SimpleFSM.create(
      {
        name: 'prio',
        states: [
          {
            name: 's',
            is_start: true,
            arcs: [
              { target: 'low', priority: 1 },
              { target: 'high', priority: 9, condition: 'yes' },
              { target: 'mid', priority: 5 },
            ],
          },
          { name: 'low', is_end: true },
          { name: 'mid', is_end: true },
          { name: 'high', is_end: true },
        ],
      },
      { functions: { yes: () => true } },
    );
    expect((await fsm.process({})).finalState).toBe('high');
  });

  it('breaks priority ties by declaration order', async () => {
    const fsm = await SimpleFSM.create({
      name: 'ties',
      states: [
        {
          name: 's',
          is_start: true,
          arcs: [
            { target: 'first', priority: 3 },
            { target: 'second', priority: 3 },
          ],
        },
        { name: 'first', is_end: true },
        { name: 'second', is_end: true },
      ],
    });
    expect((await fsm.process({})).finalState).toBe('first');
  });

  it('skips arcs whose condition fails, including [false, reason] tuples', async () => {
    const fsm = await SimpleFSM.create(
      {
        name: 'tuple',
        states: [
          {
            name: 's',
            is_start: true,
            arcs: [
              { target: 'x', priority: 2, condition: 'tupleNo' },
              { target: 'y', condition: 'tupleYes' },
            ],
          },
          { name: 'x', is_end: true },
          { name: 'y', is_end: true },
        ],
      },
      { functions: { tupleNo: () => [false, 'nope'], tupleYes: () => [true, 'ok'] } },
    );
    expect((await fsm.process({})).finalState).toBe('y');
  });

  it('fails with NO_TRANSITION naming the state when no arc holds', async () => {
    const fsm = await SimpleFSM.create(
      {
        name: 'stuck',
        states: [
          { name: 'start', is_start: true, arcs: [{ target: 'end', condition: 'no' }] },
          { name: 'end', is_end: true },
        ],
      },
      { functions: { no: () => false } },
    );
    const r = await fsm.process({ id: 1 });
    expect(r.success).toBe(false);
    expect(r.error).toMatchObject({ code: 'NO_TRANSITION', state: 'start' });
    expect(r.error?.message).toContain('"start"');
    expect(r.finalState).toBe('start');
  });

  it('guards loops with max_transitions', async () => {
    const fsm = await SimpleFSM.create({
      name: 'loop',
      max_transitions: 5,
      states: [
        { name: 'spin', is_start: true, arcs: [{ target: 'spin' }] },
        { name: 'never', is_end: true },
      ],
    });
    const r = await fsm.process({});
    expect(r.error?.code).toBe('MAX_TRANSITIONS');
    expect(r.transitions).toBe(6);
  });

  it('a throwing transform gives FUNCTION_FAILED with the state, the function and the cause', async () => {
    const fsm = await SimpleFSM.create(linear(), {
      functions: {
        inc: () => {
          throw new RangeError('bad amount');
        },
      },
    });
    const r = await fsm.process({ n: 0 });
    expect(r.error).toMatchObject({
      code: 'FUNCTION_FAILED',
      state: 'a',
      cause: { name: 'RangeError', message: 'bad amount' },
    });
    expect(r.error?.message).toContain('transform "inc"');
  });

  it('an async transform that rejects gives FUNCTION_FAILED too', async () => {
    const fsm = await SimpleFSM.create(linear(), {
      functions: {
        inc: async () => {
          throw new Error('remote down');
        },
      },
    });
    expect((await fsm.process({ n: 0 })).error).toMatchObject({ code: 'FUNCTION_FAILED', state: 'a' });
  });

  it('runs async functions through process()', async () => {
    const fsm = await SimpleFSM.create(linear(), {
      functions: { inc: async (d: { n: number }) => ({ n: d.n + 10 }) },
    });
    expect((await fsm.process({ n: 0 })).data).toEqual({ n: 20 });
  });

  it('initialState starts elsewhere; an unknown one is misuse', async () => {
    const fsm = await SimpleFSM.create(linear(), { functions: { inc } });
    expect((await fsm.process({ n: 0 }, { initialState: 'b' })).path).toEqual(['b', 'c']);
    await expect(fsm.process({ n: 0 }, { initialState: 'zz' })).rejects.toMatchObject({ code: 'MISUSE' });
  });

  it('passes the function context: state, network, execution id, params', async () => {
    const seen: Rec[] = [];
    const fsm = await SimpleFSM.create(
      {
        name: 'ctx',
        states: [
          { name: 'a', is_start: true, transforms: [{ type: 'registered', name: 'spy', params: { k: 1 } }] },
          { name: 'z', is_end: true },
        ],
        arcs: [{ from: 'a', to: 'z' }],
      },
      {
        functions: {
          spy: (_d: unknown, ctx) => {
            seen.push({
              state: ctx.state,
              network: ctx.network,
              id: ctx.executionId,
              params: ctx.params,
              batch: ctx.batch,
            });
          },
        },
      },
    );
    const r = await fsm.process({}, { executionId: 'exec-1' });
    expect(seen).toEqual([{ state: 'a', network: 'main', id: 'exec-1', params: { k: 1 }, batch: undefined }]);
    expect(r.executionId).toBe('exec-1');
  });

  it('runs arc transforms between states', async () => {
    const fsm = await SimpleFSM.create(
      {
        name: 'arc-t',
        states: [
          { name: 'a', is_start: true, arcs: [{ target: 'b', transform: 'tag' }] },
          { name: 'b', is_end: true },
        ],
      },
      { functions: { tag: (d: Rec) => ({ ...d, tagged: true }) } },
    );
    expect((await fsm.process({})).data).toEqual({ tagged: true });
  });

  it('is closed after close(): process is misuse', async () => {
    const fsm = await SimpleFSM.create(linear(), { functions: { inc } });
    await fsm.close();
    await expect(fsm.process({ n: 0 })).rejects.toMatchObject({ code: 'MISUSE' });
  });

  it('exposes states, networks and a mermaid graph', async () => {
    const fsm = await SimpleFSM.create(linear(), { functions: { inc } });
    expect(fsm.states).toEqual(['a', 'b', 'c']);
    expect(fsm.networks).toEqual(['main']);
    const mermaid = fsm.toMermaid();
    expect(mermaid).toContain('stateDiagram-v2');
    expect(mermaid).toContain('main__a --> main__b');
    expect(fsm.toDot()).toContain('"main__b" -> "main__c"');
  });
});

describe('entry order and validation', () => {
  it('runs schema, pre_validators, transforms, validators in that order', async () => {
    const log: string[] = [];
    const fsm = await SimpleFSM.create(
      {
        name: 'order',
        states: [
          {
            name: 's',
            is_start: true,
            schema: { type: 'object', required: ['id'] },
            pre_validators: ['pre'],
            transforms: ['t1', 't2'],
            validators: ['post'],
            arcs: [{ target: 'e' }],
          },
          { name: 'e', is_end: true },
        ],
      },
      {
        functions: {
          pre: () => {
            log.push('pre');
            return true;
          },
          t1: () => {
            log.push('t1');
          },
          t2: () => {
            log.push('t2');
          },
          post: () => {
            log.push('post');
            return { valid: true };
          },
        },
      },
    );
    expect((await fsm.process({ id: 1 })).success).toBe(true);
    expect(log).toEqual(['pre', 't1', 't2', 'post']);
  });

  it('a schema violation fails with VALIDATION_FAILED naming the field, before any transform', async () => {
    let ran = false;
    const fsm = await SimpleFSM.create(
      {
        name: 'schema',
        states: [
          {
            name: 's',
            is_start: true,
            schema: { type: 'object', required: ['id'] },
            transforms: ['t'],
            arcs: [{ target: 'e' }],
          },
          { name: 'e', is_end: true },
        ],
      },
      {
        functions: {
          t: () => {
            ran = true;
          },
        },
      },
    );
    const r = await fsm.process({ other: 1 });
    expect(r.error?.code).toBe('VALIDATION_FAILED');
    expect(r.error?.message).toContain('id');
    expect(ran).toBe(false);
  });

  it('a validator returning {valid:false, errors} fails with its messages', async () => {
    const fsm = await SimpleFSM.create(
      {
        name: 'v',
        states: [
          { name: 's', is_start: true, validators: ['check'], arcs: [{ target: 'e' }] },
          { name: 'e', is_end: true },
        ],
      },
      {
        functions: {
          check: () => ({ valid: false, errors: [{ path: '/amount', message: 'must be positive' }] }),
        },
      },
    );
    const r = await fsm.process({ amount: -1 });
    expect(r.error).toMatchObject({ code: 'VALIDATION_FAILED', state: 's' });
    expect(r.error?.message).toContain('/amount: must be positive');
  });

  it('a pre_validator returning false fails the record', async () => {
    const fsm = await SimpleFSM.create(
      {
        name: 'pv',
        states: [
          { name: 's', is_start: true, pre_validators: ['nope'], arcs: [{ target: 'e' }] },
          { name: 'e', is_end: true },
        ],
      },
      { functions: { nope: () => false } },
    );
    expect((await fsm.process({})).error?.code).toBe('VALIDATION_FAILED');
  });

  it('validate() checks the start state without running the machine', async () => {
    const fsm = await SimpleFSM.create(
      {
        name: 'val',
        states: [
          {
            name: 's',
            is_start: true,
            schema: { type: 'object', required: ['id'] },
            pre_validators: ['pos'],
            arcs: [{ target: 'e' }],
          },
          { name: 'e', is_end: true },
        ],
      },
      { functions: { pos: (d: { n?: number }) => (d.n ?? 0) > 0 } },
    );
    expect(await fsm.validate({ id: 1, n: 1 })).toEqual({ valid: true, errors: [] });
    const bad = await fsm.validate({ n: 0 });
    expect(bad.valid).toBe(false);
    expect(bad.errors).toHaveLength(2);
  });
});

describe('data modes', () => {
  const mutating = (d: { n: number; log?: string[] }) => {
    d.n += 1;
    d.log ??= [];
    d.log.push('x');
  };

  it('copy mode (default) never mutates the caller’s input', async () => {
    const fsm = await SimpleFSM.create(linear(), { functions: { inc: mutating } });
    const input = { n: 0 };
    const r = await fsm.process(input);
    expect(input).toEqual({ n: 0 });
    expect(r.data).toEqual({ n: 2, log: ['x', 'x'] });
  });

  it('copy mode discards a failed state’s changes', async () => {
    let calls = 0;
    const fsm = await SimpleFSM.create(linear(), {
      functions: {
        inc: (d: { n: number }) => {
          d.n += 100;
          if (++calls === 2) throw new Error('second state fails');
        },
      },
    });
    const r = await fsm.process({ n: 0 });
    expect(r.success).toBe(false);
    expect(r.finalState).toBe('b');
    expect(r.data).toEqual({ n: 100 });
  });

  it('reference mode lets the caller see changes made in place', async () => {
    const fsm = await SimpleFSM.create(linear({ data_mode: 'reference' }), { functions: { inc: mutating } });
    const input = { n: 0 };
    const r = await fsm.process(input);
    expect(input.n).toBe(2);
    expect(r.data).toBe(input);
  });

  it('direct mode mutates in place with no copies', async () => {
    const fsm = await SimpleFSM.create(linear({ data_mode: { default: 'direct' } }), {
      functions: { inc: mutating },
    });
    const input = { n: 5 };
    await fsm.process(input);
    expect(input.n).toBe(7);
  });

  it('state_overrides switch one state to reference mode', async () => {
    const fsm = await SimpleFSM.create(
      linear({ data_mode: { default: 'copy', state_overrides: { b: 'reference' } } }),
      {
        functions: { inc: mutating },
      },
    );
    const input = { n: 0 };
    const r = await fsm.process(input);
    // a copies (input untouched); b works in place on a's copy.
    expect(input).toEqual({ n: 0 });
    expect(r.data).toMatchObject({ n: 2 });
  });
});

describe('processSync', () => {
  it('gives the same result as process for sync configs', async () => {
    const fsm = await SimpleFSM.create(linear(), { functions: { inc } });
    const sync = fsm.processSync({ n: 1 });
    const async = await fsm.process({ n: 1 });
    expect({ ...sync, executionId: '', durationMs: 0 }).toEqual({ ...async, executionId: '', durationMs: 0 });
  });

  it('refuses configs with async functions, naming the function', async () => {
    const fsm = await SimpleFSM.create(linear(), { functions: { inc: async (d: { n: number }) => d } });
    expect(() => fsm.processSync({ n: 0 })).toThrow(/inc/);
  });

  it('throws MisuseError when a "sync" function returns a promise at run time', async () => {
    const fsm = await SimpleFSM.create(linear(), {
      functions: { inc: (d: { n: number }) => Promise.resolve(d) },
    });
    expect(() => fsm.processSync({ n: 0 })).toThrow(expect.objectContaining({ code: 'MISUSE' }));
  });

  it('reports failures as results, not throws', async () => {
    const fsm = await SimpleFSM.create(linear(), {
      functions: {
        inc: () => {
          throw new Error('x');
        },
      },
    });
    expect(fsm.processSync({ n: 0 }).error?.code).toBe('FUNCTION_FAILED');
  });
});

describe('timeouts and abort', () => {
  const forever = (_d: unknown, ctx: { signal: AbortSignal }) =>
    new Promise((_resolve, reject) =>
      ctx.signal.addEventListener('abort', () => reject(new Error('stopped')), { once: true }),
    );

  it('timeoutMs stops a never-ending async transform with TIMEOUT and aborts its signal', async () => {
    let aborted = false;
    const fsm = await SimpleFSM.create(linear(), {
      functions: {
        inc: (d: unknown, ctx) => {
          ctx.signal.addEventListener('abort', () => {
            aborted = true;
          });
          return forever(d, ctx);
        },
      },
    });
    const r = await fsm.process({ n: 0 }, { timeoutMs: 30 });
    expect(r.error).toMatchObject({ code: 'TIMEOUT', state: 'a' });
    expect(aborted).toBe(true);
  });

  it('timeout_seconds from the config applies per record', async () => {
    const fsm = await SimpleFSM.create(linear({ timeout_seconds: 0.03 }), { functions: { inc: forever } });
    expect((await fsm.process({ n: 0 })).error?.code).toBe('TIMEOUT');
  });

  it('an AbortSignal stops the run with ABORTED', async () => {
    const fsm = await SimpleFSM.create(linear(), { functions: { inc: forever } });
    const controller = new AbortController();
    const pending = fsm.process({ n: 0 }, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('user cancelled')), 10);
    const r = await pending;
    expect(r.error?.code).toBe('ABORTED');
    expect(r.error?.message).toContain('user cancelled');
  });
});
