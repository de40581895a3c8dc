import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ExecutionHistory } from '../history/execution-history.js';
import { SimpleFSM } from './simple-fsm.js';

type Rec = Record<string, unknown>;
const example = (file: string) =>
  fileURLToPath(new URL(`../../../../examples/dataknobs/${file}`, import.meta.url));

const pushConfig = (isolation: string, extra: Rec = {}) => ({
  name: 'push',
  main_network: 'main',
  networks: [
    {
      name: 'main',
      states: [
        {
          name: 'start',
          is_start: true,
          arcs: [
            {
              target: 'back',
              target_network: 'child',
              return_state: 'back',
              data_isolation: isolation,
              ...extra,
            },
          ],
        },
        { name: 'back', is_end: true },
      ],
    },
    {
      name: 'child',
      states: [
        { name: 'work', is_start: true, transforms: ['childWork'], arcs: [{ target: 'done' }] },
        { name: 'done', is_end: true },
      ],
    },
  ],
});

describe('push arcs', () => {
  it('runs the sub-network on mapped data and maps the result back', async () => {
    const fsm = await SimpleFSM.create(
      pushConfig('copy', { data_mapping: { amount: 'value' }, result_mapping: { doubled: 'total' } }),
      {
        functions: { childWork: (d: { value: number }) => ({ ...d, doubled: d.value * 2 }) },
      },
    );
    const r = await fsm.process({ id: 7, amount: 21 });
    expect(r.success).toBe(true);
    expect(r.data).toEqual({ id: 7, amount: 21, total: 42 });
    expect(r.path).toEqual(['start', 'work', 'done', 'back']);
  });

  it('copy isolation: the child cannot mutate the parent', async () => {
    const fsm = await SimpleFSM.create(pushConfig('copy', { result_mapping: { flag: 'flag' } }), {
      functions: {
        childWork: (d: { nested: { v: number } }) => {
          d.nested.v = 999;
          return { ...d, flag: true };
        },
      },
    });
    const input = { nested: { v: 1 } };
    const r = await fsm.process(input, {});
    expect(r.data).toEqual({ nested: { v: 1 }, flag: true });
  });

  it('reference isolation: the child works on the parent’s object', async () => {
    const fsm = await SimpleFSM.create(
      { ...pushConfig('reference'), data_mode: 'reference' },
      {
        functions: {
          childWork: (d: { nested: { v: number } }) => {
            d.nested.v = 2;
          },
        },
      },
    );
    const input = { nested: { v: 1 } };
    await fsm.process(input);
    expect(input.nested.v).toBe(2);
  });

  it('serialize isolation round-trips the child data through JSON', async () => {
    let seen: unknown;
    const fsm = await SimpleFSM.create(pushConfig('serialize'), {
      functions: {
        childWork: (d: unknown) => {
          seen = d;
        },
      },
    });
    await fsm.process({ when: new Date(0), skip: undefined });
    expect(seen).toEqual({ when: '1970-01-01T00:00:00.000Z' });
  });

  it('without result_mapping the child’s result is merged into the parent’s data', async () => {
    const fsm = await SimpleFSM.create(pushConfig('copy'), {
      functions: { childWork: (d: Rec) => ({ ...d, fromChild: 1 }) },
    });
    expect((await fsm.process({ a: 1 })).data).toEqual({ a: 1, fromChild: 1 });
  });

  it('pushes nest: a sub-network can push into another', async () => {
    const fsm = await SimpleFSM.create(
      {
        name: 'nested',
        main_network: 'main',
        networks: [
          {
            name: 'main',
            states: [
              { name: 's', is_start: true, arcs: [{ target: 'e', target_network: 'mid' }] },
              { name: 'e', is_end: true },
            ],
          },
          {
            name: 'mid',
            states: [
              {
                name: 'm1',
                is_start: true,
                transforms: ['tagMid'],
                arcs: [{ target: 'm2', target_network: 'leaf' }],
              },
              { name: 'm2', is_end: true },
            ],
          },
          { name: 'leaf', states: [{ name: 'l1', is_start: true, is_end: true, transforms: ['tagLeaf'] }] },
        ],
      },
      {
        history: true,
        functions: { tagMid: (d: Rec) => ({ ...d, mid: true }), tagLeaf: (d: Rec) => ({ ...d, leaf: true }) },
      },
    );
    const r = await fsm.process({});
    expect(r.success).toBe(true);
    expect(r.data).toEqual({ mid: true, leaf: true });
    expect(r.path).toEqual(['s', 'm1', 'l1', 'm2', 'e']);
    const tree = r.history?.steps.map((s) => ({
      state: s.state,
      children: s.children?.map((c) => [c.state, c.children?.map((g) => g.state)]),
    }));
    expect(tree).toEqual([
      {
        state: 's',
        children: [
          ['m1', ['l1']],
          ['m2', undefined],
        ],
      },
      { state: 'e', children: undefined },
    ]);
    const history = r.history as ExecutionHistory;
    expect(ExecutionHistory.fromJSON(history.toJSON())).toEqual(history);
  });

  it('a failing sub-network fails the parent with the child’s error when no other arc handles it', async () => {
    const fsm = await SimpleFSM.create(pushConfig('copy'), {
      functions: {
        childWork: () => {
          throw new Error('child broke');
        },
      },
    });
    const r = await fsm.process({});
    expect(r.success).toBe(false);
    expect(r.error?.code).toBe('FUNCTION_FAILED');
    expect(r.error?.message).toContain('child broke');
    // finalState is where the record failed, as for a flat config; the path ends there too.
    expect(r.finalState).toBe('work');
    expect(r.path.at(-1)).toBe('work');
  });

  it('a later arc of the pushing state can handle the sub-network’s failure (context.lastError)', async () => {
    const config = pushConfig('copy');
    const start = config.networks[0]?.states[0] as { arcs: Rec[] };
    start.arcs.push({ target: 'recovered', condition: 'hasError' });
    config.networks[0]?.states.push({ name: 'recovered', is_end: true } as never);
    const fsm = await SimpleFSM.create(config, {
      functions: {
        childWork: () => {
          throw new Error('child broke');
        },
        hasError: (_d: unknown, ctx) => ctx.lastError?.code === 'FUNCTION_FAILED',
      },
    });
    const r = await fsm.process({ keep: 1 });
    expect(r).toMatchObject({ success: true, finalState: 'recovered', data: { keep: 1 } });
  });
});

describe('dataknobs reference configs', () => {
  it('order-routing: schema, jsonata transform, priorities', async () => {
    const fsm = await SimpleFSM.create(example('order-routing.yaml'));
    const big = await fsm.process({ order_id: 'o1', amount: 1000, region: 'EU' });
    expect(big).toMatchObject({ success: true, finalState: 'manual_review', data: { total: 1200 } });
    expect((await fsm.process({ order_id: 'o2', amount: 10, region: 'US' })).finalState).toBe('express');
    expect((await fsm.process({ order_id: 'o3', amount: 10, region: 'EU' })).finalState).toBe('standard');
    const invalid = await fsm.process({ order_id: 'o4', region: 'EU' });
    expect(invalid.error).toMatchObject({ code: 'VALIDATION_FAILED', state: 'receive' });
  });

  it('enrich-with-subnetwork: network-level arcs and a push with mappings', async () => {
    const fsm = await SimpleFSM.create(example('enrich-with-subnetwork.yaml'));
    const risky = await fsm.process({ customer_id: 'c1', spend: 9000 });
    expect(risky).toMatchObject({
      success: true,
      finalState: 'rejected',
      data: { customer_id: 'c1', spend: 9000, risk_score: 0.9 },
    });
    const ok = await fsm.process({ customer_id: 'c2', spend: 10 });
    expect(ok).toMatchObject({ finalState: 'accepted', data: { risk_score: 0.1 } });
    expect(ok.path).toEqual(['start', 'enrich', 'compute', 'scored', 'score_done', 'accepted']);
  });

  it('retry-loop: shorthand config with a registered function and a bounded loop', async () => {
    let calls = 0;
    const fsm = await SimpleFSM.create(example('retry-loop.yaml'), {
      functions: {
        call_service: (d: { attempts?: number }) => {
          calls++;
          const attempts = (d.attempts ?? 0) + 1;
          return { ...d, attempts, ok: attempts === 2 };
        },
      },
    });
    const done = await fsm.process({});
    expect(done).toMatchObject({ success: true, finalState: 'done', data: { attempts: 2, ok: true } });
    expect(calls).toBe(2);
    const never = await SimpleFSM.create(example('retry-loop.yaml'), {
      functions: {
        call_service: (d: { attempts?: number }) => ({ ...d, attempts: (d.attempts ?? 0) + 1, ok: false }),
      },
    });
    expect(await never.process({})).toMatchObject({ finalState: 'gave_up', data: { attempts: 3 } });
  });
});

describe('entry network selection', () => {
  const multi = {
    name: 'multi',
    main_network: 'main',
    networks: [
      { name: 'main', states: [{ name: 'm', is_start: true, is_end: true }] },
      {
        name: 'bulk',
        metadata: { processing_mode: 'batch' },
        states: [{ name: 'b', is_start: true, is_end: true }],
      },
      { name: 'other', states: [{ name: 'o', is_start: true, is_end: true }] },
    ],
  };

  it('enters the main network by default, an explicit network or network.state when asked', async () => {
    const fsm = await SimpleFSM.create(multi);
    expect((await fsm.process({})).finalState).toBe('m');
    expect((await fsm.process({}, { network: 'other' })).finalState).toBe('o');
    expect((await fsm.process({}, { initialState: 'other.o' })).finalState).toBe('o');
    await expect(fsm.process({}, { network: 'nope' })).rejects.toMatchObject({ code: 'MISUSE' });
  });

  it('a record cannot choose its entry network: its _network field is data unless the config opts in', async () => {
    const fsm = await SimpleFSM.create(multi);
    expect((await fsm.process({ _network: 'other' })).finalState).toBe('m');
    const batch = await fsm.processBatch([{}, { _network: 'other' }]);
    expect(batch.results.map((r) => r.finalState)).toEqual(['b', 'b']);
    await fsm.close();
  });

  it('with network_hint_field, honours the record’s hint, then a network whose processing_mode matches', async () => {
    const fsm = await SimpleFSM.create({ ...multi, network_hint_field: '_network' });
    expect((await fsm.process({ _network: 'other' })).finalState).toBe('o');
    // A value naming no network (or an inherited member's name) is ignored.
    expect((await fsm.process({ _network: 'constructor' })).finalState).toBe('m');
    expect((await fsm.process({})).finalState).toBe('m');
    const batch = await fsm.processBatch([{}, { _network: 'other' }]);
    expect(batch.results.map((r) => r.finalState)).toEqual(['b', 'o']);
    await fsm.close();
    const nested = await SimpleFSM.create({ ...multi, network_hint_field: 'route.network' });
    expect((await nested.process({ route: { network: 'other' } })).finalState).toBe('o');
    expect((await nested.process({ _network: 'other' })).finalState).toBe('m');
    await nested.close();
  });

  it('network_hint_field must be a safe field path', async () => {
    await expect(
      SimpleFSM.create({ ...multi, network_hint_field: '__proto__.network' }),
    ).rejects.toMatchObject({ code: 'CONFIG_INVALID', path: 'network_hint_field' });
  });
});
