import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type ExecutionResult, loadConfig, parseConfigText, SimpleFSM } from '@fsm/core';
import { describe, expect, it } from 'vitest';

// The corpus of dataknobs-fsm configs: each `<name>.yaml` runs its `<name>.input.jsonl` and must give
// `<name>.expected.jsonl` (what dataknobs does), or, where we deliberately differ, `<name>.ours.jsonl`.
// Configs with inline Python run as `fsm migrate --write` rewrote them (`<name>.migrated.yaml`, kept in
// step by packages/cli/test/migrate.test.ts).
const dir = fileURLToPath(new URL('../dataknobs/', import.meta.url));
const references = fileURLToPath(new URL('../../../shared/reference-configs/', import.meta.url));
const corpus = readdirSync(dir)
  .filter((f) => f.endsWith('.input.jsonl'))
  .map((f) => f.slice(0, -'.input.jsonl'.length))
  .sort();

const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** Registered functions some configs name (registered Python functions of the same behaviour in dataknobs). */
const functions = {
  is_big: (data: { amount: number }) => data.amount > 100,
  explode: () => {
    throw new Error('explode');
  },
};

/** The two differences `semantics: dataknobs` switches to dataknobs' behaviour. */
const SWITCHABLE = new Set(['push-without-return', 'push-result-replaces']);

const view = (r: ExecutionResult, keys: string[]) => {
  const all: Record<string, unknown> = {
    success: r.success,
    final_state: r.finalState,
    data: r.data,
    path: r.path,
  };
  return Object.fromEntries(keys.map((k) => [k, all[k]]));
};

async function results(config: string | object, inputs: Record<string, unknown>[]) {
  const fsm = await SimpleFSM.create(config, { functions });
  const out: ExecutionResult[] = [];
  for (const input of inputs) out.push(await fsm.process(input));
  await fsm.close();
  return out;
}

const compare = (got: ExecutionResult[], want: Record<string, unknown>[]) =>
  got.map((r, i) => view(r, Object.keys(want[i] ?? {})));

describe('dataknobs-fsm corpus (examples/dataknobs)', () => {
  it('has configs covering the library and every documented difference', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(15);
  });

  it.each(corpus)('%s: the config loads unchanged (bar inline Python) and runs as expected', async (name) => {
    const original = `${dir}${name}.yaml`;
    const migrated = `${dir}${name}.migrated.yaml`;
    const inputs = lines(`${dir}${name}.input.jsonl`);
    const expected = lines(`${dir}${name}.expected.jsonl`);
    const oursFile = `${dir}${name}.ours.jsonl`;
    const ours = existsSync(oursFile) ? lines(oursFile) : expected;
    expect(inputs).toHaveLength(expected.length);

    await loadConfig(original);
    if (existsSync(migrated)) {
      // Inline Python is the one thing that does not load as is: it is code, refused by default.
      await expect(SimpleFSM.create(original, { functions })).rejects.toMatchObject({
        code: 'CODE_NOT_ALLOWED',
      });
    }
    const config = existsSync(migrated) ? migrated : original;
    const got = await results(config, inputs);
    expect(compare(got, ours)).toEqual(ours);
    if (ours !== expected) expect(compare(got, expected)).not.toEqual(expected);

    if (SWITCHABLE.has(name)) {
      const raw = parseConfigText(readFileSync(config, 'utf8'), config) as Record<string, unknown>;
      const dataknobs = await results({ ...raw, semantics: 'dataknobs' }, inputs);
      expect(compare(dataknobs, expected)).toEqual(expected);
    }
  });

  it.each(readdirSync(dir).filter((f) => f.endsWith('.yaml') && !f.endsWith('.migrated.yaml')))(
    '%s loads',
    async (file) => {
      await expect(loadConfig(`${dir}${file}`)).resolves.toMatchObject({ name: expect.any(String) });
    },
  );

  it
    .runIf(existsSync(references))
    .each(existsSync(references) ? readdirSync(references).filter((f) => f.endsWith('.yaml')) : [])(
    'shared reference config %s loads unchanged and compiles',
    async (file) => {
      const fsm = await SimpleFSM.create(`${references}${file}`, {
        functions: { call_service: (d: unknown) => d },
      });
      await fsm.close();
    },
  );
});
