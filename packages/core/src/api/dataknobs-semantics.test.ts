import { describe, expect, it } from 'vitest';
import { SimpleFSM } from './simple-fsm.js';

type Rec = Record<string, unknown>;

/** main: start =push=> child (work → done) then back to `after`; `after` adds a field. */
const config = (arc: Rec, semantics?: string) => ({
  name: 'semantics',
  main_network: 'main',
  ...(semantics ? { semantics } : {}),
  networks: [
    {
      name: 'main',
      states: [
        { name: 'start', is_start: true, arcs: [{ target: 'after', target_network: 'child', ...arc }] },
        { name: 'after', transforms: ['mark'], arcs: [{ target: 'end' }] },
        { name: 'end', is_end: true },
      ],
    },
    {
      name: 'child',
      states: [
        { name: 'work', is_start: true, transforms: ['work'], arcs: [{ target: 'done' }] },
        { name: 'done', is_end: true },
      ],
    },
  ],
});
const functions = {
  work: () => ({ child: true }),
  mark: (d: Rec) => ({ ...d, after: true }),
};

describe('semantics: dataknobs', () => {
  it('a push without return_state ends the run in the sub-network (ours continues at target)', async () => {
    const ours = await SimpleFSM.create(config({}), { functions });
    expect(await ours.process({ id: 1 })).toMatchObject({
      success: true,
      finalState: 'end',
      data: { id: 1, child: true, after: true },
    });
    const dk = await SimpleFSM.create(config({}, 'DataKnobs'), { functions });
    const r = await dk.process({ id: 1 });
    expect(r).toMatchObject({ success: true, finalState: 'done', data: { child: true } });
    expect(r.path).toEqual(['start', 'work', 'done']);
  });

  it('without result_mapping the child’s result replaces the parent’s data (ours merges)', async () => {
    const dk = await SimpleFSM.create(config({ return_state: 'after' }, 'dataknobs'), { functions });
    expect(await dk.process({ id: 1 })).toMatchObject({
      success: true,
      finalState: 'end',
      data: { child: true, after: true },
    });
    expect((await dk.process({ id: 1 })).data).not.toHaveProperty('id');
  });

  it('a result_mapping still maps into the parent’s data', async () => {
    const dk = await SimpleFSM.create(
      config({ return_state: 'after', result_mapping: { child: 'got' } }, 'dataknobs'),
      { functions },
    );
    expect((await dk.process({ id: 1 })).data).toEqual({ id: 1, got: true, after: true });
  });
});
