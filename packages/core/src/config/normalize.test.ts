import { describe, expect, test } from 'vitest';
import { normalizeConfig } from './index.js';
import { issuesOf, minimal } from './test-support/helpers.js';

const env = {};

describe('normalized config', () => {
  test('defaults are applied to the config, states, arcs and resources', () => {
    const raw = { ...minimal(), resources: [{ name: 'db', type: 'database' }] };
    const { config, warnings, baseDir, sourceFile } = normalizeConfig(raw, { env, baseDir: '/tmp' });
    expect(warnings).toEqual([]);
    expect(baseDir).toBe('/tmp');
    expect(sourceFile).toBeUndefined();
    expect(config).toEqual({
      name: 'demo',
      version: '1.0.0',
      main_network: 'main',
      data_mode: { default: 'copy', state_overrides: {} },
      resources: [
        {
          name: 'db',
          type: 'database',
          config: {},
          connection_pool_size: 10,
          timeout_seconds: 30,
          retry_attempts: 3,
          retry_delay_seconds: 1.0,
        },
      ],
      functions: {},
      networks: [
        {
          name: 'main',
          resources: [],
          states: [
            {
              name: 'start',
              is_start: true,
              is_end: false,
              pre_validators: [],
              transforms: [],
              validators: [],
              arcs: [{ target: 'done', priority: 0 }],
              resources: [],
              emit_output: true,
              run_on_failure: false,
            },
            {
              name: 'done',
              is_start: false,
              is_end: true,
              pre_validators: [],
              transforms: [],
              validators: [],
              arcs: [],
              resources: [],
              emit_output: true,
              run_on_failure: false,
            },
          ],
        },
      ],
      execution_strategy: 'depth_first',
      max_transitions: 1000,
    });
  });

  test('network-level arcs go after the state’s own arcs, in declaration order, keeping name', () => {
    const { config } = normalizeConfig(
      {
        name: 'x',
        networks: [
          {
            name: 'main',
            states: [
              { name: 'a', is_start: true, arcs: [{ target: 'c', priority: 3 }] },
              { name: 'b', is_end: true },
              { name: 'c', is_end: true },
            ],
            arcs: [
              { from: 'a', to: 'b', name: 'first', priority: 7 },
              { from: 'a', to: 'c', name: 'second', metadata: { note: 'n' } },
            ],
          },
        ],
      },
      { env },
    );
    expect(config.networks[0]?.states[0]?.arcs).toEqual([
      { target: 'c', priority: 3 },
      { target: 'b', priority: 7, name: 'first' },
      { target: 'c', priority: 0, name: 'second', metadata: { note: 'n' } },
    ]);
  });

  test('top-level states and arcs become one network named main', () => {
    const { config } = normalizeConfig(
      {
        name: 'x',
        states: [
          { name: 'a', is_start: true },
          { name: 'b', is_end: true },
        ],
        arcs: [{ from: 'a', to: 'b' }],
      },
      { env },
    );
    expect(config.main_network).toBe('main');
    expect(config.networks.map((n) => n.name)).toEqual(['main']);
    expect(config.networks[0]?.states[0]?.arcs).toEqual([{ target: 'b', priority: 0 }]);
  });

  test('a bare data_mode string sets the default mode', () => {
    const { config } = normalizeConfig({ ...minimal(), data_mode: 'reference' }, { env });
    expect(config.data_mode).toEqual({ default: 'reference', state_overrides: {} });
  });

  test('a data_mode object keeps state overrides and per-state modes are kept', () => {
    const raw = minimal();
    const { config } = normalizeConfig(
      {
        ...raw,
        data_mode: { state_overrides: { done: 'direct' }, copy_config: { deep: true } },
        networks: [
          {
            name: 'main',
            states: [
              { name: 'start', is_start: true, data_mode: 'reference', arcs: [{ target: 'done' }] },
              { name: 'done', is_end: true },
            ],
          },
        ],
      },
      { env },
    );
    expect(config.data_mode).toEqual({ default: 'copy', state_overrides: { done: 'direct' } });
    expect(config.networks[0]?.states[0]?.data_mode).toBe('reference');
  });

  test('function references are normalized: a name without type is registered, lists and single transforms kept', () => {
    const { config } = normalizeConfig(
      {
        name: 'x',
        functions: { big: { type: 'expression', code: 'amount > 100', language: 'cel' } },
        states: [
          {
            name: 'a',
            is_start: true,
            transforms: { name: 'enrich', params: { k: 1 } },
            validators: ['check', { type: 'builtin', name: 'required_fields', params: { fields: ['id'] } }],
            arcs: [
              { target: 'b', condition: 'big', transform: [{ type: 'inline', code: 'data' }, 'tidy'] },
              { target: 'b', transform: { type: 'custom', module: './f.js', name: 'fix' } },
            ],
          },
          { name: 'b', is_end: true },
        ],
      },
      { env },
    );
    expect(config.functions).toEqual({ big: { type: 'expression', code: 'amount > 100', language: 'cel' } });
    const state = config.networks[0]?.states[0];
    expect(state?.transforms).toEqual([{ type: 'registered', name: 'enrich', params: { k: 1 } }]);
    expect(state?.validators).toEqual([
      'check',
      { type: 'builtin', name: 'required_fields', params: { fields: ['id'] } },
    ]);
    expect(state?.arcs[0]?.transform).toEqual([{ type: 'inline', code: 'data' }, 'tidy']);
    expect(state?.arcs[1]?.transform).toEqual({ type: 'custom', module: './f.js', name: 'fix' });
  });

  test('numbers and booleans given as strings are coerced', () => {
    const { config } = normalizeConfig(
      {
        name: 'x',
        max_transitions: '25',
        timeout_seconds: '1.5',
        version: 2,
        resources: [{ name: 'db', type: 'database', connection_pool_size: '4' }],
        states: [{ name: 'a', is_start: 'true', is_end: 'true', retry: { attempts: '3', delay_ms: '100' } }],
      },
      { env },
    );
    expect(config.max_transitions).toBe(25);
    expect(config.timeout_seconds).toBe(1.5);
    expect(config.version).toBe('2');
    expect(config.resources[0]?.connection_pool_size).toBe(4);
    expect(config.networks[0]?.states[0]).toMatchObject({
      is_start: true,
      is_end: true,
      retry: { attempts: 3, delay_ms: 100 },
    });
  });

  test('arc resources keep their list or role-map form and push-arc fields are kept', () => {
    const { config } = normalizeConfig(
      {
        name: 'x',
        main_network: 'main',
        resources: [
          { name: 'db', type: 'database' },
          { name: 'gpt', type: 'llm' },
        ],
        networks: [
          {
            name: 'main',
            states: [
              {
                name: 'a',
                is_start: true,
                arcs: [
                  { target: 'b', resources: { primary: 'db' }, priority: 2 },
                  { target: 'b', resources: ['db', 'gpt'] },
                ],
              },
              {
                name: 'b',
                arcs: [{ target_network: 'sub', return_state: 'c', data_isolation: 'serialize' }],
              },
              { name: 'c', is_end: true },
            ],
          },
          { name: 'sub', states: [{ name: 's', is_start: true, is_end: true }] },
        ],
      },
      { env },
    );
    const [a, b] = config.networks[0]?.states ?? [];
    expect(a?.arcs.map((arc) => arc.resources)).toEqual([{ primary: 'db' }, ['db', 'gpt']]);
    expect(b?.arcs).toEqual([
      { target: 'c', priority: 0, target_network: 'sub', return_state: 'c', data_isolation: 'serialize' },
    ]);
  });

  test('a network streaming block gets its defaults', () => {
    const raw = minimal();
    const networks = raw.networks as Record<string, unknown>[];
    const { config } = normalizeConfig(
      { ...raw, networks: [{ ...networks[0], streaming: { enabled: true, chunk_size: 50 } }] },
      { env },
    );
    expect(config.networks[0]?.streaming).toEqual({
      enabled: true,
      chunk_size: 50,
      parallelism: 1,
      backpressure_threshold: 0.8,
    });
  });

  test('the state schema may be written as data_schema', () => {
    const { config } = normalizeConfig(
      { name: 'x', states: [{ name: 'a', is_start: true, is_end: true, data_schema: { type: 'object' } }] },
      { env },
    );
    expect(config.networks[0]?.states[0]?.schema).toEqual({ type: 'object' });
  });

  test('the input object is not mutated', () => {
    const raw = minimal();
    const before = structuredClone(raw);
    normalizeConfig({ ...raw, unknown_thing: 1 }, { env });
    expect(raw).toEqual(before);
  });
});

describe('config warnings', () => {
  test('a transaction block is accepted with a warning', () => {
    const { warnings } = normalizeConfig({ ...minimal(), transaction: { strategy: 'single' } }, { env });
    expect(warnings).toEqual([
      {
        path: 'transaction',
        message:
          "the 'transaction' block is no longer supported and is ignored; use database transactions (batched commits) for atomicity",
      },
    ]);
  });

  test('unknown keys are warnings with their path, not errors', () => {
    const raw = minimal();
    const networks = raw.networks as { states: Record<string, unknown>[] }[];
    const first = networks[0]?.states[0];
    if (first) first.colour = 'red';
    const { config, warnings } = normalizeConfig(
      {
        ...raw,
        owner: 'me',
        functions: { f: { type: 'registered', name: 'f', extra: 1 } },
      },
      { env },
    );
    expect(warnings).toEqual([
      { path: 'functions.f.extra', message: 'unknown key (ignored)' },
      { path: 'networks[0].states[0].colour', message: 'unknown key (ignored)' },
      { path: 'owner', message: 'unknown key (ignored)' },
    ]);
    expect(config.functions).toEqual({ f: { type: 'registered', name: 'f' } });
  });

  test('unreachable states are warned about', () => {
    const { warnings } = normalizeConfig(
      {
        name: 'x',
        states: [
          { name: 'a', is_start: true, arcs: [{ target: 'b' }] },
          { name: 'b', is_end: true },
          { name: 'island', is_end: true },
        ],
      },
      { env },
    );
    expect(warnings).toEqual([
      { path: 'states[2]', message: "state 'island' of network 'main' is unreachable from its start state" },
    ]);
  });

  test('sub-network states are reachable through a push, and the return state too', () => {
    const { warnings } = normalizeConfig(
      {
        name: 'x',
        main_network: 'main',
        networks: [
          {
            name: 'main',
            states: [
              {
                name: 'a',
                is_start: true,
                arcs: [{ target: 'b', target_network: 'sub', return_state: 'b' }],
              },
              { name: 'b', is_end: true },
            ],
          },
          {
            name: 'sub',
            states: [
              { name: 's', is_start: true, arcs: [{ target: 't' }] },
              { name: 't', is_end: true },
              { name: 'dead', is_end: true },
            ],
          },
        ],
      },
      { env },
    );
    expect(warnings).toEqual([
      {
        path: 'networks[1].states[2]',
        message: "state 'dead' of network 'sub' is unreachable from its start state",
      },
    ]);
  });

  test('a network never pushed to, and an end state with arcs, are warned about', () => {
    const { warnings } = normalizeConfig(
      {
        name: 'x',
        main_network: 'main',
        networks: [
          {
            name: 'main',
            states: [
              { name: 'a', is_start: true, arcs: [{ target: 'b' }] },
              { name: 'b', is_end: true, arcs: [{ target: 'a' }] },
            ],
          },
          { name: 'orphan', states: [{ name: 's', is_start: true, is_end: true }] },
        ],
      },
      { env },
    );
    expect(warnings).toEqual([
      { path: 'networks[0].states[1].arcs[0]', message: "end state 'b' has arcs; they are never taken" },
      { path: 'networks[1]', message: "network 'orphan' is never pushed to and is not the main network" },
    ]);
  });

  test('a config that is not an object is reported at the root', () => {
    expect(issuesOf(() => normalizeConfig(['not', 'a', 'config'], { env }))).toEqual([
      { path: '', message: 'Invalid input: expected object, received array' },
    ]);
  });

  test('the shorthand network takes the main_network name when one is given', () => {
    const { config } = normalizeConfig(
      { name: 'x', main_network: 'flow', states: [{ name: 'a', is_start: true, is_end: true }] },
      { env },
    );
    expect(config.networks.map((n) => n.name)).toEqual(['flow']);
  });

  test('networks and top-level states together are an error', () => {
    const issues = issuesOf(() =>
      normalizeConfig({ ...minimal(), states: [{ name: 'a', is_start: true }] }, { env }),
    );
    expect(issues).toEqual([
      {
        path: 'states',
        message: "top-level 'states'/'arcs' (single-network shorthand) cannot be combined with 'networks'",
      },
    ]);
  });
});
