// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} placeholders are what these tests are about
import { describe, expect, test } from 'vitest';
import { substituteEnv } from './env.js';
import { normalizeConfig } from './index.js';
import { issuesOf, minimal } from './test-support/helpers.js';

function sub(value: unknown, env: Record<string, string | undefined>) {
  const issues: { path: string; message: string }[] = [];
  const out = substituteEnv(value, env, issues);
  return { out, issues };
}

describe('environment substitution', () => {
  test('${VAR} is replaced when set, also inside a longer string', () => {
    expect(sub({ url: 'postgres://${HOST}:5432/db' }, { HOST: 'db.local' }).out).toEqual({
      url: 'postgres://db.local:5432/db',
    });
  });

  test('${VAR:-default} uses the default only when the variable is unset', () => {
    const value = ['${A:-one}', '${B:-two}', '${C:-}'];
    expect(sub(value, { A: 'set' }).out).toEqual(['set', 'two', '']);
  });

  test('${VAR:?message} fails with the variable, the message and the path where it is used', () => {
    const issues = issuesOf(() =>
      normalizeConfig(
        {
          ...minimal(),
          resources: [{ name: 'db', type: 'database', config: { url: '${DB_URL:?set the database URL}' } }],
        },
        { env: {} },
      ),
    );
    expect(issues).toEqual([
      {
        path: 'resources[0].config.url',
        message: 'environment variable DB_URL is not set (nor FSM_DB_URL): set the database URL',
      },
    ]);
  });

  test('${VAR} without a default is required', () => {
    const { issues } = sub({ a: [{ b: '${MISSING}' }] }, {});
    expect(issues).toEqual([
      { path: 'a[0].b', message: 'environment variable MISSING is not set (nor FSM_MISSING)' },
    ]);
  });

  test('a whole-string $VAR is replaced when set and kept verbatim when not', () => {
    expect(sub(['$USER_NAME', '$UNSET_ONE'], { USER_NAME: 'ann' })).toEqual({
      out: ['ann', '$UNSET_ONE'],
      issues: [],
    });
  });

  test('an unset VAR falls back to FSM_VAR in every form', () => {
    const env = { FSM_LIMIT: '7' };
    expect(sub(['${LIMIT}', '${LIMIT:-1}', '$LIMIT', '${LIMIT:?no}'], env).out).toEqual(['7', '7', '7', '7']);
  });

  test('VAR wins over FSM_VAR when both are set', () => {
    expect(sub('${LIMIT}', { LIMIT: '1', FSM_LIMIT: '2' }).out).toBe('1');
  });

  test('$$ is a literal dollar sign', () => {
    expect(sub(['costs $$5', '$${HOME}', '$$HOME'], { HOME: '/root' }).out).toEqual([
      'costs $5',
      '${HOME}',
      '$HOME',
    ]);
  });

  test('JSONata code in expressions keeps its $ functions and $$, while ${VAR} still works', () => {
    const ref = { type: 'expression', code: '$merge([$$, { "limit": ${LIMIT} }])' };
    expect(sub(ref, { LIMIT: '9', merge: 'oops' }).out).toEqual({
      type: 'expression',
      code: '$merge([$$, { "limit": 9 }])',
    });
  });

  test('substituted numeric strings become numbers in the normalized config', () => {
    const { config } = normalizeConfig(
      { ...minimal(), max_transitions: '${MAX}', timeout_seconds: '${TIMEOUT:-30}' },
      { env: { MAX: '12' } },
    );
    expect(config.max_transitions).toBe(12);
    expect(config.timeout_seconds).toBe(30);
  });

  test('process.env is the default environment', () => {
    process.env.FSM_CONFIG_TEST_NAME = 'from-process-env';
    try {
      const { config } = normalizeConfig({ ...minimal(), name: '${FSM_CONFIG_TEST_NAME}' });
      expect(config.name).toBe('from-process-env');
    } finally {
      delete process.env.FSM_CONFIG_TEST_NAME;
    }
  });

  test('keys are not substituted, only values', () => {
    expect(sub({ $KEY: '$KEY' }, { KEY: 'v' }).out).toEqual({ $KEY: 'v' });
  });
});
