import { describe, expect, it } from 'vitest';
import { SimpleFSM } from '../api/simple-fsm.js';
import { ResourceScope, EMPTY_RESOURCES } from '../engine/resource-scope.js';
import { ConfigError } from '../errors/errors.js';
import { FsmError } from '../errors/fsm-error.js';
import type { ResourceProvider } from '../interfaces/resource.js';
import { compilePlan } from '../plan/compile.js';
import { BasicResourceManager } from '../resources/basic-resource-manager.js';
import { compileJsonSchema } from './json-schema.js';
import { createFunctionResolver } from './resolver.js';

type Rec = Record<string, unknown>;
/** Names of Object.prototype members: none of them may resolve to that member. */
const NAMES = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__'];

const provider = (name: string): ResourceProvider => ({
  specificationVersion: 'v1',
  type: 'test',
  name,
  create: async () => ({ handle: name }),
  destroy: async () => undefined,
  close: async () => undefined,
});

function config(start: Rec = {}, extra: Rec = {}): Rec {
  return {
    name: 'names',
    main_network: 'main',
    functions: { mine: 'identity' },
    networks: [
      {
        name: 'main',
        states: [
          { name: 's', is_start: true, arcs: [{ target: 'e' }], ...start },
          { name: 'e', is_end: true },
        ],
      },
      { name: 'sub', states: [{ name: 'x', is_start: true, is_end: true }] },
    ],
    ...extra,
  };
}

async function createError(
  cfg: Rec,
  options: Parameters<typeof SimpleFSM.create>[1] = {},
): Promise<ConfigError> {
  const error = await SimpleFSM.create(cfg, options).then(
    async (fsm) => {
      await fsm.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(error, JSON.stringify(cfg)).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).code).toBe('CONFIG_INVALID');
  return error as ConfigError;
}

const options = { functions: { double: (d: unknown) => d } };

describe('a name of an Object.prototype member is an unknown name, in every position', () => {
  for (const name of NAMES) {
    it(`"${name}" as a function: by name, registered, builtin, condition; registered and config functions exist`, async () => {
      const refs: Array<[Rec, string, string]> = [
        [{ transforms: [name] }, 'networks[0].states[0].transforms[0]', 'function'],
        [
          { transforms: [{ type: 'registered', name }] },
          'networks[0].states[0].transforms[0].name',
          'function',
        ],
        [{ transforms: [{ type: 'builtin', name }] }, 'networks[0].states[0].transforms[0].name', 'builtin'],
        [{ validators: [name] }, 'networks[0].states[0].validators[0]', 'function'],
        [{ arcs: [{ target: 'e', condition: name }] }, 'networks[0].states[0].arcs[0].condition', 'function'],
      ];
      for (const [start, path, what] of refs) {
        const error = await createError(config(start), options);
        expect(error.issues).toEqual([
          { path, message: expect.stringContaining(`unknown ${what} "${name}"`) },
        ]);
      }
    });

    it(`"${name}" as a resource, resource type, network, state and resource role`, async () => {
      // A state's resource that is not declared.
      let error = await createError(config({ resources: [name] }));
      expect(error.issues[0]?.path).toBe('networks[0].states[0].resources[0]');
      // A declared resource of that name, with instances given for other names only.
      error = await createError(config({}, { resources: [{ name, type: 'test' }] }), {
        resources: { other: provider('other') },
        resourceTypes: {},
      });
      expect(error.issues[0]?.path).toBe('resources[0].type');
      // A resource type of that name.
      error = await createError(config({}, { resources: [{ name: 'db', type: name }] }), {
        resourceTypes: { test: () => provider('db') },
      });
      expect(error.issues[0]).toEqual({
        path: 'resources[0].type',
        message: expect.stringContaining(`no provider for resource type "${name}"`),
      });
      // Networks and states.
      error = await createError(config({}, { main_network: name }));
      expect(error.issues.map((i) => i.path)).toContain('main_network');
      error = await createError(config({ arcs: [{ target: 'e', target_network: name, return_state: 'e' }] }));
      expect(error.issues[0]?.path).toBe('networks[0].states[0].arcs[0].target_network');
      error = await createError(config({ arcs: [{ target: name }] }));
      expect(error.issues[0]?.path).toBe('networks[0].states[0].arcs[0].target');
      // Entry points from the caller.
      const fsm = await SimpleFSM.create(config());
      for (const entry of [{ network: name }, { initialState: name }, { initialState: `main.${name}` }]) {
        await expect(fsm.process({}, entry)).rejects.toMatchObject({ code: 'MISUSE' });
      }
      await fsm.close();
      // Resource roles and names at run time.
      const scope = new ResourceScope();
      scope.add({ role: 'db', name: 'main-db' }, {});
      expect(scope.has(name)).toBe(false);
      expect(() => scope.get(name)).toThrow(/not held/);
      expect(EMPTY_RESOURCES.has(name)).toBe(false);
      const manager = new BasicResourceManager();
      manager.register('db', provider('db'));
      expect(manager.has(name)).toBe(false);
      await expect(manager.acquire(name, 'owner')).rejects.toMatchObject({ code: 'RESOURCE_UNAVAILABLE' });
      await manager.close();
    });
  }

  it('the resolver’s tables are own-key only (registered and config functions)', async () => {
    const resolver = createFunctionResolver({ registered: {}, named: { mine: 'identity' } });
    for (const name of NAMES) {
      for (const ref of [name, { type: 'registered' as const, name }]) {
        const error = await resolver.resolve(ref, 'transform', 'f').then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(FsmError.is(error) && error.code).toBe('CONFIG_INVALID');
      }
    }
  });

  it('a state named like a member takes the config’s data mode, not the member', async () => {
    const fsm = await SimpleFSM.create({
      name: 'modes',
      data_mode: { default: 'reference', state_overrides: { s: 'copy' } },
      states: [
        { name: 'constructor', is_start: true, arcs: [{ target: 'toString' }] },
        { name: 'toString', is_end: true },
        { name: 's' },
      ],
    });
    const plan = await compilePlan(fsm.config, {
      resolver: createFunctionResolver(),
      compileSchema: compileJsonSchema,
    });
    expect(plan.states.map((s) => s.dataMode)).toEqual(['reference', 'reference', 'copy']);
    expect((await fsm.process({ a: 1 })).finalState).toBe('toString');
    await fsm.close();
  });
});
