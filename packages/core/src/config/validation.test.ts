import { describe, expect, test } from 'vitest';
import { ConfigError, FsmError } from '../errors/index.js';
import { normalizeConfig } from './index.js';
import { issuesOf } from './test-support/helpers.js';

const env = {};

describe('config errors carry the JSON path of the problem', () => {
  test('an unknown arc target is reported at the arc target', () => {
    const issues = issuesOf(() =>
      normalizeConfig(
        {
          name: 'x',
          networks: [
            {
              name: 'main',
              states: [
                { name: 'a', is_start: true, arcs: [{ target: 'b' }, { target: 'nowhere' }] },
                { name: 'b', is_end: true },
              ],
            },
          ],
        },
        { env },
      ),
    );
    expect(issues).toEqual([
      { path: 'networks[0].states[0].arcs[1].target', message: "unknown state 'nowhere' in network 'main'" },
    ]);
  });

  test('an unknown target of a network-level arc is reported at its to key', () => {
    const issues = issuesOf(() =>
      normalizeConfig(
        {
          name: 'x',
          networks: [
            {
              name: 'main',
              states: [
                { name: 'a', is_start: true },
                { name: 'b', is_end: true },
              ],
              arcs: [
                { from: 'a', to: 'b' },
                { from: 'a', to: 'c' },
                { from: 'zz', to: 'b' },
              ],
            },
          ],
        },
        { env },
      ),
    );
    expect(issues).toEqual([
      { path: 'networks[0].arcs[2].from', message: "unknown state 'zz' in network 'main'" },
      { path: 'networks[0].arcs[1].to', message: "unknown state 'c' in network 'main'" },
    ]);
  });

  const pushConfig = (arc: Record<string, unknown>) => ({
    name: 'x',
    main_network: 'main',
    networks: [
      {
        name: 'main',
        states: [
          { name: 'a', is_start: true, arcs: [arc] },
          { name: 'b', is_end: true },
        ],
      },
      { name: 'sub', states: [{ name: 's', is_start: true, is_end: true }] },
    ],
  });

  test('an unknown target_network is reported at target_network', () => {
    const issues = issuesOf(() =>
      normalizeConfig(pushConfig({ target: 'b', target_network: 'missing', return_state: 'b' }), { env }),
    );
    expect(issues).toEqual([
      { path: 'networks[0].states[0].arcs[0].target_network', message: "unknown network 'missing'" },
    ]);
  });

  test('a return_state that is not a state of the parent network is reported at return_state', () => {
    const issues = issuesOf(() =>
      normalizeConfig(pushConfig({ target: 'b', target_network: 'sub', return_state: 's' }), { env }),
    );
    expect(issues).toEqual([
      { path: 'networks[0].states[0].arcs[0].return_state', message: "unknown state 's' in network 'main'" },
    ]);
  });

  test('a push arc without return_state continues in target, which must be a parent state', () => {
    const issues = issuesOf(() =>
      normalizeConfig(pushConfig({ target: 's', target_network: 'sub' }), { env }),
    );
    expect(issues).toEqual([
      { path: 'networks[0].states[0].arcs[0].target', message: "unknown state 's' in network 'main'" },
    ]);
  });

  test('a duplicate state name is reported at the second state name', () => {
    const issues = issuesOf(() =>
      normalizeConfig(
        {
          name: 'x',
          networks: [
            {
              name: 'main',
              states: [
                { name: 'a', is_start: true, arcs: [{ target: 'b' }] },
                { name: 'b', is_end: true },
                { name: 'b', is_end: true },
              ],
            },
          ],
        },
        { env },
      ),
    );
    expect(issues).toEqual([
      { path: 'networks[0].states[2].name', message: "duplicate state name 'b' in network 'main'" },
    ]);
  });

  test('a duplicate network name is reported at the second network name', () => {
    const net = { name: 'main', states: [{ name: 'a', is_start: true, is_end: true }] };
    const issues = issuesOf(() =>
      normalizeConfig({ name: 'x', main_network: 'main', networks: [net, net] }, { env }),
    );
    expect(issues).toEqual([{ path: 'networks[1].name', message: "duplicate network name 'main'" }]);
  });

  test('a network without a start state is reported at its states', () => {
    const issues = issuesOf(() =>
      normalizeConfig(
        { name: 'x', networks: [{ name: 'main', states: [{ name: 'a', is_end: true }] }] },
        { env },
      ),
    );
    expect(issues).toEqual([
      { path: 'networks[0].states', message: "network 'main' has no start state (is_start: true)" },
    ]);
  });

  test('an unknown main_network is reported at main_network', () => {
    const issues = issuesOf(() =>
      normalizeConfig(
        {
          name: 'x',
          main_network: 'primary',
          networks: [{ name: 'main', states: [{ name: 'a', is_start: true, is_end: true }] }],
        },
        { env },
      ),
    );
    expect(issues).toEqual([{ path: 'main_network', message: "unknown network 'primary'" }]);
  });

  test('main_network is required when there are several networks', () => {
    const net = (name: string) => ({ name, states: [{ name: 'a', is_start: true, is_end: true }] });
    const issues = issuesOf(() =>
      normalizeConfig({ name: 'x', networks: [net('one'), net('two')] }, { env }),
    );
    expect(issues).toEqual([
      { path: 'main_network', message: 'required when the config has more than one network' },
    ]);
  });

  test('an undeclared resource on a state is reported at the resource entry', () => {
    const issues = issuesOf(() =>
      normalizeConfig(
        {
          name: 'x',
          resources: [{ name: 'db', type: 'database' }],
          networks: [
            {
              name: 'main',
              states: [{ name: 'a', is_start: true, is_end: true, resources: ['db', 'cache'] }],
            },
          ],
        },
        { env },
      ),
    );
    expect(issues).toEqual([
      {
        path: 'networks[0].states[0].resources[1]',
        message: "resource 'cache' is not declared under 'resources'",
      },
    ]);
  });

  test('an undeclared resource in an arc role map is reported at the role key', () => {
    const issues = issuesOf(() =>
      normalizeConfig(
        {
          name: 'x',
          resources: [{ name: 'db', type: 'database' }],
          networks: [
            {
              name: 'main',
              states: [
                {
                  name: 'a',
                  is_start: true,
                  arcs: [{ target: 'b', resources: { primary: 'db', llm: 'gpt' } }],
                },
                { name: 'b', is_end: true },
              ],
            },
          ],
        },
        { env },
      ),
    );
    expect(issues).toEqual([
      {
        path: 'networks[0].states[0].arcs[0].resources.llm',
        message: "resource 'gpt' is not declared under 'resources'",
      },
    ]);
  });

  test('resources passed as knownResources need no declaration', () => {
    const { config } = normalizeConfig(
      {
        name: 'x',
        networks: [
          {
            name: 'main',
            resources: ['db'],
            states: [{ name: 'a', is_start: true, is_end: true, resources: ['db'] }],
          },
        ],
      },
      { env, knownResources: ['db'] },
    );
    expect(config.networks[0]?.states[0]?.resources).toEqual(['db']);
  });

  test('a bad data_mode value is reported at data_mode', () => {
    const issues = issuesOf(() => normalizeConfig({ name: 'x', data_mode: 'fast', states: [] }, { env }));
    expect(issues).toEqual([
      { path: 'data_mode', message: 'Invalid option: expected one of "copy"|"reference"|"direct"' },
    ]);
  });

  test('a bad per-state data_mode is reported at the state', () => {
    const issues = issuesOf(() =>
      normalizeConfig({ name: 'x', states: [{ name: 'a', is_start: true, data_mode: 'deep' }] }, { env }),
    );
    expect(issues.map((i) => i.path)).toEqual(['states[0].data_mode']);
  });

  test('a state_overrides key that is not a state is reported at the key', () => {
    const issues = issuesOf(() =>
      normalizeConfig(
        {
          name: 'x',
          data_mode: { default: 'copy', state_overrides: { ghost: 'reference' } },
          states: [{ name: 'a', is_start: true, is_end: true }],
        },
        { env },
      ),
    );
    expect(issues).toEqual([{ path: 'data_mode.state_overrides.ghost', message: "unknown state 'ghost'" }]);
  });

  test('a wrong type for max_transitions is reported with the value', () => {
    const issues = issuesOf(() =>
      normalizeConfig(
        { name: 'x', max_transitions: 'lots', states: [{ name: 'a', is_start: true }] },
        { env },
      ),
    );
    expect(issues).toEqual([{ path: 'max_transitions', message: 'expected a number, got string "lots"' }]);
  });

  test('max_transitions must be a positive integer', () => {
    const issues = issuesOf(() =>
      normalizeConfig({ name: 'x', max_transitions: true, states: [{ name: 'a', is_start: true }] }, { env }),
    );
    expect(issues).toEqual([{ path: 'max_transitions', message: 'expected a number, got boolean true' }]);
    const zero = issuesOf(() =>
      normalizeConfig({ name: 'x', max_transitions: 0, states: [{ name: 'a', is_start: true }] }, { env }),
    );
    expect(zero.map((i) => i.path)).toEqual(['max_transitions']);
  });

  test('a function reference of a bad shape is reported at the reference', () => {
    const issues = issuesOf(() =>
      normalizeConfig(
        {
          name: 'x',
          states: [
            {
              name: 'a',
              is_start: true,
              transforms: [
                { type: 'expression' },
                42,
                { type: 'custom', name: 'f' },
                { type: 'magic', name: 'f' },
              ],
            },
          ],
        },
        { env },
      ),
    );
    expect(issues).toEqual([
      { path: 'states[0].transforms[0].code', message: 'an expression function needs code' },
      {
        path: 'states[0].transforms[1]',
        message: 'expected a function name or a {type, ...} object, got number 42',
      },
      { path: 'states[0].transforms[2].module', message: 'a custom function needs a module' },
      {
        path: 'states[0].transforms[3].type',
        message: 'Invalid option: expected one of "registered"|"builtin"|"expression"|"inline"|"custom"',
      },
    ]);
  });

  test('a missing name is reported at the root key', () => {
    const issues = issuesOf(() => normalizeConfig({ states: [{ name: 'a', is_start: true }] }, { env }));
    expect(issues).toEqual([{ path: 'name', message: 'required' }]);
  });

  test('several errors are all reported in one ConfigError', () => {
    let caught: unknown;
    try {
      normalizeConfig(
        {
          name: 'x',
          main_network: 'main',
          networks: [
            {
              name: 'main',
              states: [
                { name: 'a', is_start: true, arcs: [{ target: 'zz' }], resources: ['nope'] },
                { name: 'a', is_end: true },
              ],
            },
            { name: 'sub', states: [{ name: 's' }] },
          ],
        },
        { env, source: 'inline.yaml' },
      );
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect(FsmError.is(caught) && caught.code).toBe('CONFIG_INVALID');
    const error = caught as ConfigError;
    expect(error.issues.map((i) => i.path)).toEqual([
      'networks[0].states[1].name',
      'networks[0].states[0].arcs[0].target',
      'networks[1].states',
      'networks[0].states[0].resources[0]',
    ]);
    expect(error.message).toContain('Invalid FSM config in inline.yaml (4 issues)');
    expect(error.message).toContain("networks[0].states[0].arcs[0].target: unknown state 'zz'");
  });
});
