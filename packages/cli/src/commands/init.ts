import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT_OK, UsageError } from '../exit-codes.js';

const TEMPLATES: Record<string, { config: string; data: string }> = {
  basic: {
    config: `# A starter FSM (dataknobs-fsm format). Run: fsm run fsm.yaml --input data.jsonl
name: starter
states:
  - name: start
    is_start: true
    schema: { type: object, required: [id] }
  - name: enrich
    transforms:
      - { type: builtin, name: set_defaults, params: { defaults: { status: new } } }
  - { name: done, is_end: true }
arcs:
  - { from: start, to: enrich }
  - { from: enrich, to: done }
`,
    data: '{"id": 1}\n{"id": 2, "status": "open"}\n',
  },
  validation: {
    config: `# Validate records and route valid / invalid ones.
name: validation
states:
  - name: check
    is_start: true
  - { name: valid, is_end: true }
  - { name: invalid, is_end: true }
arcs:
  - from: check
    to: valid
    priority: 1
    condition: { type: expression, language: cel, code: 'has(data.email) && data.email.contains("@")' }
  - { from: check, to: invalid }
`,
    data: '{"email": "a@example.com"}\n{"email": "nope"}\n',
  },
  etl: {
    config: `# Extract (input file) -> validate -> transform -> route. Run: fsm run fsm.yaml --input data.jsonl
name: etl
states:
  - name: extract
    is_start: true
    validators:
      - { type: builtin, name: required_fields, params: { fields: [id, amount] } }
  - name: transform
    transforms:
      - { type: builtin, name: convert_types, params: { fields: { amount: number } } }
      - { type: expression, code: '$merge([$, { "amount_cents": amount * 100 }])' }
  - { name: loaded, is_end: true }
arcs:
  - { from: extract, to: transform }
  - { from: transform, to: loaded }
`,
    data: '{"id": 1, "amount": "12.5"}\n{"id": 2, "amount": "3"}\n',
  },
};

/** `fsm init [dir] --pattern basic|validation|etl`: writes fsm.yaml and data.jsonl, never over existing files. */
export function initCommand(dir: string, options: { pattern: string }): number {
  const template = TEMPLATES[options.pattern];
  if (!template) throw new UsageError(`--pattern must be one of ${Object.keys(TEMPLATES).join(', ')}`);
  mkdirSync(dir, { recursive: true });
  const files = { 'fsm.yaml': template.config, 'data.jsonl': template.data };
  for (const name of Object.keys(files)) {
    if (existsSync(join(dir, name)))
      throw new UsageError(`${join(dir, name)} already exists; not overwriting it`);
  }
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  process.stdout.write(
    `created ${join(dir, 'fsm.yaml')} and ${join(dir, 'data.jsonl')}\nnext: fsm run ${join(dir, 'fsm.yaml')} --input ${join(dir, 'data.jsonl')}\n`,
  );
  return EXIT_OK;
}
