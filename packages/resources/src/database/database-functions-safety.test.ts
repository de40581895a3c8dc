import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, SimpleFSM } from '@fsm/core';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultResourceTypes, resourceFunctions } from '../index.js';

const dir = mkdtempSync(join(tmpdir(), 'fsm-db-safety-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HOSTILE = ['__proto__.polluted', 'constructor.prototype.polluted', 'a.prototype'];

const config = (name: string, params: Record<string, unknown>) => ({
  name: 'db',
  resources: [{ name: 'wh', type: 'database', config: { dialect: 'sqlite', path: join(dir, 'db.sqlite') } }],
  states: [
    {
      name: 's',
      is_start: true,
      resources: ['wh'],
      transforms: [{ type: 'builtin', name, params: { resource: 'wh', ...params } }],
      arcs: [{ target: 'e' }],
    },
    { name: 'e', is_end: true },
  ],
});

describe('database builtins refuse field paths that walk prototypes, when the config is compiled', () => {
  for (const path of HOSTILE) {
    it(`"${path}" in fields, target and :placeholders is CONFIG_INVALID at the param`, async () => {
      const cases: Array<[string, Record<string, unknown>, string]> = [
        ['db_insert', { table: 't', fields: ['id', path] }, 'params.fields[1]'],
        ['db_upsert', { table: 't', key: 'id', fields: [path] }, 'params.fields[0]'],
        ['db_query', { sql: 'select 1', target: path }, 'params.target'],
        ['db_query', { sql: `select * from t where id = :${path}`, target: 'rows' }, 'params.sql'],
      ];
      for (const [name, params, at] of cases) {
        const error = await SimpleFSM.create(config(name, params), {
          resourceTypes: defaultResourceTypes,
          builtins: resourceFunctions,
        }).then(
          async (fsm) => {
            await fsm.close();
            return undefined;
          },
          (e: unknown) => e,
        );
        expect(error, `${name} ${JSON.stringify(params)}`).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).code).toBe('CONFIG_INVALID');
        expect((error as ConfigError).issues[0]?.path).toBe(`networks[0].states[0].transforms[0].${at}`);
      }
      expect(Object.keys(Object.prototype)).toEqual([]);
    });
  }
});
